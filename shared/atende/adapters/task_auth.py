"""Who may call a worker: Cloud Tasks with an OIDC token in the cloud, a shared header locally.

Both fail closed: without configuration nobody is let in. Rejections carry a short,
PII-free reason as the error code; never the token, the claims or the e-mail.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from atende.errors import ConfigurationError, TransientError, UnauthorizedCallerError

if TYPE_CHECKING:
    from google.auth.transport import Request

GOOGLE_CERTS_URL: Final = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS: Final = frozenset({"accounts.google.com", "https://accounts.google.com"})
#: What Cloud Run puts in place of the signature after verifying a token itself.
REMOVED_SIGNATURE: Final = "SIGNATURE_REMOVED_BY_GOOGLE"
#: Tolerated clock difference between Google's token issuer and this instance.
CLOCK_SKEW_SECONDS: Final = 10


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name in `headers`."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, item in headers.items():
        if key.lower() == wanted:
            return item
    return None


class SharedSecretAuthenticator:
    """Accepts a caller that sends the shared secret in a header (local dev and tests)."""

    def __init__(self, secret: str | None, header: str = "x-atende-task-token") -> None:
        self._secret = secret
        self._header = header

    def authenticate(self, headers: Mapping[str, str]) -> None:
        if not self._secret:
            raise ConfigurationError("no task secret configured", code="task_secret_missing")
        given = header_value(headers, self._header)
        if not given:
            raise UnauthorizedCallerError("missing_token", code="missing_token")
        # Bytes: compare_digest refuses non-ASCII str, and a header may carry anything.
        if not hmac.compare_digest(given.encode("utf-8"), self._secret.encode("utf-8")):
            raise UnauthorizedCallerError("wrong_token", code="wrong_token")


# google-auth raises ValueErrors whose text quotes the token; only these codes leave here.
_REASONS: Final = (
    ("Token expired", "token_expired"),
    ("Token used too early", "token_not_yet_valid"),
    ("wrong audience", "wrong_audience"),
    ("Could not verify token signature", "bad_signature"),
    ("Certificate for key id", "unknown_key"),
    ("Unsupported signature algorithm", "unsupported_algorithm"),
    ("required claim", "malformed_token"),
    ("segments", "malformed_token"),
    ("JSON object", "malformed_token"),
)


def _reason(error: Exception) -> str:
    text = str(error)
    for fragment, reason in _REASONS:
        if fragment in text:
            return reason
    return "invalid_token"


def _rejected(reason: str) -> UnauthorizedCallerError:
    return UnauthorizedCallerError(reason, code=reason)


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    data: bytes


@dataclass
class _CachingRequest:
    """A google.auth transport Request that keeps GET responses for their Cache-Control
    max-age. Google's certs change rarely and say so (max-age of hours); without this every
    task would wait for an HTTPS round trip before doing any work."""

    inner: Any
    timeout: float
    max_cache_seconds: float = 86_400.0
    _cache: dict[str, tuple[float, _Response]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        kwargs["timeout"] = self.timeout  # google-auth's default is 120 s
        if method != "GET":
            return self.inner(url, method=method, **kwargs)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = self.inner(url, method="GET", **kwargs)
        response = _Response(raw.status, dict(raw.headers), raw.data)
        if response.status == 200:
            self._check_json(url, response.data)
            max_age = _max_age(response.headers)
            if max_age > 0:
                with self._lock:
                    self._cache[url] = (now + min(max_age, self.max_cache_seconds), response)
        return response

    @staticmethod
    def _check_json(url: str, data: bytes) -> None:
        # Broken certs are the server's fault: make them a transport error (retry later),
        # not a ValueError that would read as a bad token.
        try:
            json.loads(data)
        except ValueError:
            from google.auth import exceptions

            error: Any = exceptions.TransportError  # the library has no type hints here
            raise error(f"certificates at {url} are not JSON") from None


_MAX_AGE = re.compile(r"max-age=(\d+)")


def _max_age(headers: Mapping[str, str]) -> float:
    control = header_value(headers, "cache-control") or ""
    if "no-store" in control or "no-cache" in control:
        return 0.0
    found = _MAX_AGE.search(control)
    return float(found.group(1)) if found else 0.0


def _default_request() -> Any:
    import requests
    from google.auth.transport.requests import Request

    return Request(session=requests.Session())


class OidcAuthenticator:
    """Accepts a Google-signed OIDC token for one of `audiences`, issued to `service_account`.

    Cloud Run verifies tokens itself when a function requires authentication, and then
    forwards them with the signature replaced by SIGNATURE_REMOVED_BY_GOOGLE. Such tokens
    are refused unless `accept_platform_verified` is set, which is safe only for functions
    that do not allow unauthenticated calls; their claims are still checked.
    """

    def __init__(
        self,
        audiences: Sequence[str],
        service_account: str | None,
        certs_url: str | None = None,
        request_factory: Callable[[], Any] | None = None,
        *,
        accept_platform_verified: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._audiences = [audience for audience in audiences if audience]
        self._service_account = (service_account or "").strip().lower()
        self._certs_url = certs_url or GOOGLE_CERTS_URL
        self._request_factory = request_factory or _default_request
        self._accept_platform_verified = accept_platform_verified
        self._timeout = timeout
        self._request: _CachingRequest | None = None
        self._lock = threading.Lock()

    def authenticate(self, headers: Mapping[str, str]) -> None:
        if not self._service_account or not self._audiences:
            raise ConfigurationError(
                "OIDC task auth needs audiences and a service account", code="task_auth_config"
            )
        authorization = (header_value(headers, "authorization") or "").strip()
        if not authorization:
            raise _rejected("missing_token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _rejected("not_bearer")
        if token.endswith("." + REMOVED_SIGNATURE):
            if not self._accept_platform_verified:
                raise _rejected("signature_removed")
            claims = self._platform_verified_claims(token)
        else:
            claims = self._verified_claims(token)
        self._check_claims(claims)

    def close(self) -> None:
        """Close the HTTP session used to fetch certificates, if any."""
        with self._lock:
            request, self._request = self._request, None
        session = getattr(request.inner, "session", None) if request else None
        if session is not None:
            session.close()

    def _verified_claims(self, token: str) -> Mapping[str, Any]:
        from google.auth import exceptions
        from google.oauth2 import id_token

        try:
            return dict(
                id_token.verify_token(
                    token,
                    cast("Request", self._transport()),
                    audience=list(self._audiences),
                    certs_url=self._certs_url,
                    clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
                )
            )
        except (exceptions.TransportError, exceptions.TimeoutError) as exc:
            raise TransientError(
                "could not fetch token certificates", code="certs_unavailable"
            ) from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _rejected(_reason(exc)) from None  # the cause quotes the token

    def _platform_verified_claims(self, token: str) -> Mapping[str, Any]:
        from google.auth import jwt

        try:
            decode: Any = jwt.decode  # the library has no type hints here
            claims = dict(decode(token, verify=False))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise _rejected("malformed_token") from None
        expires = claims.get("exp")
        if not isinstance(expires, int | float):
            raise _rejected("malformed_token")
        if expires + CLOCK_SKEW_SECONDS < time.time():
            raise _rejected("token_expired")
        if claims.get("aud") not in self._audiences:
            raise _rejected("wrong_audience")
        return claims

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise _rejected("wrong_issuer")
        email = claims.get("email")
        if not isinstance(email, str) or email.lower() != self._service_account:
            raise _rejected("wrong_email")
        if claims.get("email_verified") not in (True, "true"):
            raise _rejected("email_unverified")

    def _transport(self) -> _CachingRequest:
        with self._lock:
            if self._request is None:
                self._request = _CachingRequest(self._request_factory(), self._timeout)
            return self._request
