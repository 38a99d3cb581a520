"""The CalDAV HTTP calls the poll makes: sync-collection (RFC 6578) and calendar-multiget
(RFC 4791), with HTTP Basic auth, a timeout, and no redirects followed.

Redirects are refused rather than followed: a redirect to another host would carry (or, with
`requests`, silently drop) the app-specific password. The configured URL must be the final
one (iCloud's `p<NN>-caldav.icloud.com` host of the account).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth

from atende.channels.apple_calendar.dav_xml import (
    Multistatus,
    multiget_body,
    parse_multistatus,
    sync_collection_body,
)
from atende.channels.apple_calendar.errors import classify_error
from atende.errors import ConfigurationError, MalformedPayloadError, ProviderTransientError

_MULTI_STATUS = 207
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_XML = 'application/xml; charset="utf-8"'
#: RFC 4791 §7.9 leaves the batch size to us; this keeps one answer well under a few MB.
MULTIGET_BATCH = 50


@dataclass(frozen=True)
class Credentials:
    username: str
    #: The app-specific password; kept out of repr so it never reaches a log or traceback.
    password: str = field(repr=False)


def check_calendar_url(url: str) -> None:
    """Refuse a URL that would send the password in clear: https only, plain http only to
    this machine (the local Radicale of the dev stack and the tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return
    raise ConfigurationError(
        "an Apple Calendar URL must be https (plain http only on 127.0.0.1)",
        code="caldav_insecure_url",
    )


class CalDavClient:
    def __init__(
        self,
        credentials: Credentials,
        timeout: float,
        session: requests.Session | None = None,
    ) -> None:
        self._auth = HTTPBasicAuth(credentials.username, credentials.password)
        self._timeout = timeout
        self._session = session or requests.Session()

    def sync_page(self, url: str, token: str | None) -> Multistatus:
        """One sync-collection answer; raise InvalidSyncTokenError if `token` is refused."""
        # RFC 6578 §3.2: the report is only defined with Depth 0 (also the default).
        page = parse_multistatus(self._report(url, sync_collection_body(token), "0"), url)
        if page.token is None:
            raise MalformedPayloadError("sync-collection answer without a DAV:sync-token")
        return page

    def multiget(self, url: str, hrefs: Sequence[str]) -> Multistatus:
        """The etag and data of members, for an answer that did not carry them."""
        # RFC 4791 §7.9: the Depth header SHOULD NOT be sent with calendar-multiget.
        return parse_multistatus(self._report(url, multiget_body(hrefs), None), url)

    def _report(self, url: str, body: bytes, depth: str | None) -> bytes:
        check_calendar_url(url)
        headers = {"Content-Type": _XML}
        if depth is not None:
            headers["Depth"] = depth
        try:
            response = self._session.request(
                "REPORT",
                url,
                data=body,
                headers=headers,
                auth=self._auth,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise ProviderTransientError("CalDAV server timed out", code="caldav_timeout") from None
        except requests.RequestException as exc:
            # The exception text may quote the URL; only its type leaves here.
            raise ProviderTransientError(
                f"CalDAV server unreachable ({type(exc).__name__})", code="caldav_unreachable"
            ) from None
        content = response.content
        response.close()
        if response.status_code == _MULTI_STATUS:
            return content
        if 200 <= response.status_code < 300:
            raise MalformedPayloadError(f"CalDAV REPORT answered {response.status_code}, not 207")
        raise classify_error(response.status_code, content)

    def close(self) -> None:
        self._session.close()
