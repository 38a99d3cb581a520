"""The subscriber's side of WebSub §5.1: asking the hub to (re)subscribe our callback.

The request is a form POST; a hub that takes it answers 202 Accepted and then verifies our
intent with a GET to the callback (answered by the connector). Errors carry only the HTTP
status: the hub's plain-text explanation may echo the callback URL.
"""

from __future__ import annotations

import ipaddress
from typing import Protocol
from urllib.parse import urlsplit

import requests

from atende.errors import ConfigurationError, ProviderPermanentError, ProviderTransientError

#: WebSub §5.1: hub.secret "MUST be less than 200 bytes in length".
MAX_SECRET_BYTES = 199
_TRANSIENT_STATUSES = frozenset({408, 429})
_LOOPBACK_NAMES = frozenset({"localhost"})


class Hub(Protocol):
    def request(self, form: dict[str, str]) -> None:
        """Send one subscription request; raise ProviderTransientError or
        ProviderPermanentError when the hub does not accept it."""
        ...


def subscription_form(
    *, topic: str, callback: str, lease_seconds: int, secret: str, mode: str = "subscribe"
) -> dict[str, str]:
    """The documented form fields of a subscription request."""
    if not secret or len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise ConfigurationError("the YouTube hub secret must be 1 to 199 bytes long")
    if lease_seconds <= 0:
        raise ConfigurationError("the lease must be a positive number of seconds")
    return {
        "hub.mode": mode,
        "hub.topic": topic,
        "hub.callback": callback,
        "hub.lease_seconds": str(lease_seconds),
        "hub.secret": secret,
    }


def check_hub_url(url: str) -> None:
    """The secret travels in the request body: only over HTTPS, or plain HTTP on loopback
    (the dev sandbox). WebSub says hub.secret SHOULD only be sent over HTTPS."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ConfigurationError("ATENDE_YOUTUBE_HUB_URL is not a URL") from None
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _is_loopback(host):
        return
    raise ConfigurationError("ATENDE_YOUTUBE_HUB_URL must be https (http only on loopback)")


def check_callback_url(url: str | None) -> str:
    if not url:
        raise ConfigurationError("ATENDE_YOUTUBE_CALLBACK_URL is not set")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigurationError("ATENDE_YOUTUBE_CALLBACK_URL is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise ConfigurationError("ATENDE_YOUTUBE_CALLBACK_URL must be an absolute http(s) URL")
    return url


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSubHub:
    """A hub over HTTP: one POST per request, with a timeout and no redirects (a hub that
    moved answers 307/308; following it would need the operator to trust the new hub)."""

    def __init__(
        self, hub_url: str, timeout_seconds: float, session: requests.Session | None = None
    ) -> None:
        self._url = hub_url
        self._timeout = timeout_seconds
        self._session = session or requests.Session()

    def request(self, form: dict[str, str]) -> None:
        check_hub_url(self._url)
        try:
            # `data=` sends application/x-www-form-urlencoded in UTF-8, as WebSub requires.
            response = self._session.post(
                self._url, data=form, timeout=self._timeout, allow_redirects=False
            )
        except requests.Timeout:
            raise ProviderTransientError("hub timed out", code="hub_timeout") from None
        except requests.RequestException:
            raise ProviderTransientError("hub unreachable", code="hub_unreachable") from None
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            # 202 Accepted per WebSub (older hubs verifying synchronously answer 204).
            return
        if status >= 500 or status in _TRANSIENT_STATUSES:
            raise ProviderTransientError(f"hub answered {status}", code=f"hub_http_{status}")
        raise ProviderPermanentError(f"hub answered {status}", code=f"hub_http_{status}")
