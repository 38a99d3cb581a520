"""The HTTP side of the Calendar API client: credentials only for Google, errors mapped."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from gcal_support import DATA

from atende.channels.google_calendar import api as api_module
from atende.channels.google_calendar.api import CalendarApi, default_session
from atende.channels.google_calendar.errors import SyncTokenGoneError
from atende.channels.google_calendar.settings import CALENDAR_SCOPE, GOOGLE_API_BASE_URL
from atende.errors import ProviderPermanentError, ProviderTransientError


def response(status: int, content: bytes = b"") -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = content
    return answer


class StubSession:
    def __init__(self, *answers: requests.Response | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(session: StubSession, built: list[str] | None = None) -> CalendarApi:
    def factory(base_url: str) -> requests.Session:
        if built is not None:
            built.append(base_url)
        return session  # type: ignore[return-value]

    return CalendarApi("http://127.0.0.1:8091/calendar/v3/", 4.0, factory)


def test_googles_api_is_called_with_the_instances_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession

    asked: list[Any] = []

    def default(scopes: list[str]) -> tuple[Any, str]:
        asked.append(scopes)
        return AnonymousCredentials(), "project"

    monkeypatch.setattr("google.auth.default", default)
    session = default_session(GOOGLE_API_BASE_URL)
    assert isinstance(session, AuthorizedSession)
    assert asked == [[CALENDAR_SCOPE]]


@pytest.mark.parametrize(
    ("base_url", "trust_env"),
    [
        ("http://127.0.0.1:8091/calendar/v3", False),
        ("http://localhost:8091/calendar/v3", False),
        ("https://calendar-proxy.internal.example/calendar/v3", True),
    ],
)
def test_any_other_base_url_gets_a_plain_session_and_no_google_token(
    monkeypatch: pytest.MonkeyPatch, base_url: str, trust_env: bool
) -> None:
    def no_credentials(**_: Any) -> None:
        raise AssertionError("Google credentials must not be loaded for another host")

    monkeypatch.setattr("google.auth.default", no_credentials)
    session = default_session(base_url)
    assert type(session) is requests.Session
    assert session.trust_env is trust_env
    assert "Authorization" not in session.headers


def test_the_session_is_built_on_first_use_only() -> None:
    built: list[str] = []
    api = client(StubSession(response(200, b"{}"), response(200, b"{}")), built)
    assert built == []
    api.list_events("a@b.example")
    api.list_events("a@b.example")
    assert built == ["http://127.0.0.1:8091/calendar/v3"]


def test_calendar_and_event_ids_are_escaped_in_the_path() -> None:
    session = StubSession(response(200, b'{"items": []}'), response(200, b'{"id": "e"}'))
    api = client(session)
    api.list_events(
        "en.brazilian#holiday@group.v.calendar.google.com", sync_token="t", page_token="p"
    )
    api.patch_event("a@b.example", "ev/1", {"summary": "x"})
    assert session.calls[0]["url"] == (
        "http://127.0.0.1:8091/calendar/v3/calendars/"
        "en.brazilian%23holiday%40group.v.calendar.google.com/events"
    )
    assert session.calls[0]["params"] == {"maxResults": "250", "syncToken": "t", "pageToken": "p"}
    assert session.calls[0]["timeout"] == 4.0
    assert session.calls[1]["url"].endswith("/calendars/a%40b.example/events/ev%2F1")
    assert session.calls[1]["method"] == "PATCH" and session.calls[1]["json"] == {"summary": "x"}


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (requests.ConnectTimeout("slow"), "google_timeout"),
        (requests.ReadTimeout("slow"), "google_timeout"),
        (requests.ConnectionError("refused"), "google_unreachable"),
    ],
)
def test_network_failures_are_transient(failure: Exception, code: str) -> None:
    with pytest.raises(ProviderTransientError) as caught:
        client(StubSession(failure)).list_events("a@b.example")
    assert caught.value.code == code


def test_an_expired_sync_token_is_its_own_error() -> None:
    body = (DATA / "error_410_full_sync_required.json").read_bytes()
    with pytest.raises(SyncTokenGoneError):
        client(StubSession(response(410, body))).list_events("a@b.example", sync_token="old")


@pytest.mark.parametrize("content", [b"<html>", b"[1, 2]"])
def test_a_success_that_is_not_a_json_object_is_transient(content: bytes) -> None:
    with pytest.raises(ProviderTransientError):
        client(StubSession(response(200, content))).insert_event("a@b.example", {})


def test_stopping_a_channel_google_no_longer_knows_is_not_an_error() -> None:
    missing = (DATA / "error_404_not_found.json").read_bytes()
    session = StubSession(response(204), response(404, missing), response(401, b""))
    api = client(session)
    assert api.stop_channel("chan", "res") is True
    assert session.calls[0]["json"] == {"id": "chan", "resourceId": "res"}
    assert api.stop_channel("chan", "res") is False
    with pytest.raises(ProviderPermanentError):
        api.stop_channel("chan", "res")


def test_google_is_recognised_by_its_host() -> None:
    assert api_module.uses_google(GOOGLE_API_BASE_URL)
    assert not api_module.uses_google("http://127.0.0.1:8091/calendar/v3")
    assert not api_module.uses_google("https://www.googleapis.com.evil.example/calendar/v3")
