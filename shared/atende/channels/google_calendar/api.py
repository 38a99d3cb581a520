"""The few Calendar API v3 calls Atende makes, over one HTTP session.

In the cloud the session is google-auth's `AuthorizedSession` with the instance's default
credentials (the function's service account, which the calendar must be shared with). When
`ATENDE_GOOGLE_CALENDAR_API_BASE_URL` points anywhere but Google (the local fake in dev and
tests), a plain session without credentials is used: no Google account is needed there, and
no Google token is ever sent to another host. The session is built on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote, urlsplit

import requests

from atende.channels.google_calendar.errors import classify_error
from atende.channels.google_calendar.settings import CALENDAR_SCOPE, GoogleCalendarSettings
from atende.channels.plugin import ChannelDeps
from atende.errors import ProviderPermanentError, ProviderTransientError

GOOGLE_HOST = "www.googleapis.com"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Google's largest page of events.list is 2500; 250 is its default.
PAGE_SIZE = 250


def uses_google(base_url: str) -> bool:
    return urlsplit(base_url).hostname == GOOGLE_HOST


def default_session(base_url: str) -> requests.Session:
    """An authorized session for Google's API; a plain one for any other base URL."""
    if uses_google(base_url):
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        credentials, _project = google.auth.default(scopes=[CALENDAR_SCOPE])
        authorized = cast(Callable[[Any], requests.Session], AuthorizedSession)
        return authorized(credentials)
    session = requests.Session()
    # The local fake is on loopback: never through a proxy from the environment.
    session.trust_env = urlsplit(base_url).hostname not in _LOOPBACK
    return session


def _segment(value: str) -> str:
    """A path segment: calendar ids hold '@' and '#', which must be escaped."""
    return quote(value, safe="")


class CalendarApi:
    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        session_factory: Callable[[str], requests.Session] = default_session,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._factory = session_factory
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

    def _http(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                self._session = self._factory(self._base_url)
            return self._session

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self._http().request(
                method,
                f"{self._base_url}{path}",
                params=params,
                json=body,
                timeout=self._timeout,
            )
        except requests.Timeout:
            raise ProviderTransientError(
                "Google Calendar API timed out", code="google_timeout"
            ) from None
        except requests.RequestException as error:
            raise ProviderTransientError(
                f"Google Calendar API unreachable ({type(error).__name__})",
                code="google_unreachable",
            ) from None
        if response.status_code >= 300:
            raise classify_error(response.status_code, response.content)
        if not response.content:
            return {}
        try:
            document: Any = response.json()
        except ValueError:
            raise ProviderTransientError(
                "Google Calendar API answered a body that is not JSON", code="google_bad_body"
            ) from None
        if not isinstance(document, dict):
            raise ProviderTransientError(
                "Google Calendar API answered a body that is not an object",
                code="google_bad_body",
            )
        return document

    def list_events(
        self,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        page_token: str | None = None,
        time_min: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        """One page of events.list; a 410 raises SyncTokenGoneError."""
        params = {"maxResults": str(page_size)}
        if sync_token is not None:
            params["syncToken"] = sync_token
        if time_min is not None:
            params["timeMin"] = time_min
        if page_token is not None:
            params["pageToken"] = page_token
        return self._call("GET", f"/calendars/{_segment(calendar_id)}/events", params=params)

    def insert_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/calendars/{_segment(calendar_id)}/events", body=event)

    def patch_event(
        self, calendar_id: str, event_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"/calendars/{_segment(calendar_id)}/events/{_segment(event_id)}"
        return self._call("PATCH", path, body=changes)

    def watch_events(self, calendar_id: str, channel: dict[str, Any]) -> dict[str, Any]:
        """events.watch: open a push channel on the calendar's events."""
        path = f"/calendars/{_segment(calendar_id)}/events/watch"
        return self._call("POST", path, body=channel)

    def stop_channel(self, channel_id: str, resource_id: str) -> bool:
        """channels.stop; False when Google no longer knows the channel (already gone)."""
        try:
            self._call("POST", "/channels/stop", body={"id": channel_id, "resourceId": resource_id})
        except ProviderPermanentError as error:
            if error.code.startswith("google_404"):
                return False
            raise
        return True


def calendar_api(deps: ChannelDeps) -> CalendarApi:
    """The Calendar API at the configured base URL, with the functions' HTTP timeout."""
    return CalendarApi(GoogleCalendarSettings().api_base_url, deps.settings.http_timeout_seconds)
