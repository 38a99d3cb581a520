"""The local Google Calendar fake answers like the documented API (served over HTTP)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from atende.devstack.google_calendar_fake import FakeCalendarClient, create_app
from atende.devstack.processes import ManagedProcess, free_port, serve_in_thread, wait_http

CALENDAR = "agenda@loja.example"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def fake(base_url: str) -> FakeCalendarClient:
    client = FakeCalendarClient(base_url)
    client.reset()
    return client


def call(fake: FakeCalendarClient, method: str, path: str, **kwargs: Any) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, f"{fake.api_base_url}{path}", timeout=10, **kwargs)


def appointment(hours: int = 24, **extra: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)
    return {
        "summary": "Consulta",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **extra,
    }


EVENTS = "/calendars/agenda%40loja.example/events"


def test_insert_then_list_pages_and_a_sync_token(fake: FakeCalendarClient) -> None:
    created = [call(fake, "POST", EVENTS, json=appointment(h)).json() for h in (24, 25, 26)]
    assert all(e["status"] == "confirmed" and e["created"] == e["updated"] for e in created)
    first = call(fake, "GET", EVENTS, params={"maxResults": "2"}).json()
    assert first["kind"] == "calendar#events" and "nextSyncToken" not in first
    assert [e["id"] for e in first["items"]] == [e["id"] for e in created[:2]]
    last = call(
        fake, "GET", EVENTS, params={"maxResults": "2", "pageToken": first["nextPageToken"]}
    )
    assert [e["id"] for e in last.json()["items"]] == [created[2]["id"]]
    token = last.json()["nextSyncToken"]
    nothing = call(fake, "GET", EVENTS, params={"syncToken": token}).json()
    assert nothing["items"] == [] and nothing["nextSyncToken"]


def test_a_sync_token_lists_changes_and_deletions_with_only_their_id(
    fake: FakeCalendarClient,
) -> None:
    kept = call(fake, "POST", EVENTS, json=appointment()).json()
    dropped = call(fake, "POST", EVENTS, json=appointment()).json()
    token = call(fake, "GET", EVENTS).json()["nextSyncToken"]
    moved = call(fake, "PATCH", f"{EVENTS}/{kept['id']}", json={"location": "Sala 2"}).json()
    assert call(fake, "DELETE", f"{EVENTS}/{dropped['id']}").status_code == 204
    items = call(fake, "GET", EVENTS, params={"syncToken": token}).json()["items"]
    assert items[0]["id"] == kept["id"] and items[0]["location"] == "Sala 2"
    assert items[0]["updated"] == moved["updated"] != kept["updated"]
    assert set(items[1]) == {"kind", "etag", "id", "status"} and items[1]["status"] == "cancelled"
    full = call(fake, "GET", EVENTS).json()["items"]
    assert [e["id"] for e in full] == [kept["id"]]


def test_a_forgotten_sync_token_answers_410_full_sync_required(fake: FakeCalendarClient) -> None:
    token = call(fake, "GET", EVENTS).json()["nextSyncToken"]
    assert fake.expire_sync_tokens(CALENDAR) == 1
    gone = call(fake, "GET", EVENTS, params={"syncToken": token})
    assert gone.status_code == 410
    assert gone.json()["error"]["errors"][0]["reason"] == "fullSyncRequired"
    mixed = call(fake, "GET", EVENTS, params={"syncToken": "x", "timeMin": "2026-01-01T00:00:00Z"})
    assert mixed.status_code == 400


def test_time_min_keeps_events_ending_after_it(fake: FakeCalendarClient) -> None:
    call(fake, "POST", EVENTS, json=appointment(-48))
    upcoming = call(fake, "POST", EVENTS, json=appointment(24)).json()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = call(fake, "GET", EVENTS, params={"timeMin": now}).json()["items"]
    assert [e["id"] for e in items] == [upcoming["id"]]


def test_patch_merges_private_properties_and_refuses_bad_times(fake: FakeCalendarClient) -> None:
    props = {"private": {"atende_contact": "whatsapp:5511", "other": "x"}}
    event = call(fake, "POST", EVENTS, json=appointment(extendedProperties=props)).json()
    patched = call(
        fake,
        "PATCH",
        f"{EVENTS}/{event['id']}",
        json={"extendedProperties": {"private": {"other": None}}},
    ).json()
    assert patched["extendedProperties"] == {"private": {"atende_contact": "whatsapp:5511"}}
    backwards = call(fake, "PATCH", f"{EVENTS}/{event['id']}", json={"end": event["start"]})
    assert backwards.status_code == 400
    assert backwards.json()["error"]["errors"][0]["reason"] == "timeRangeEmpty"
    assert call(fake, "PATCH", f"{EVENTS}/nope", json={"summary": "x"}).status_code == 404


def test_watch_opens_a_channel_and_stop_closes_it(fake: FakeCalendarClient) -> None:
    body = {
        "id": "chan-1",
        "type": "web_hook",
        "address": "http://127.0.0.1:1/hook",
        "token": "tok",
        "params": {"ttl": "3600"},
    }
    channel = call(fake, "POST", f"{EVENTS}/watch", json=body).json()
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert channel["resourceUri"].endswith("/calendars/agenda@loja.example/events?alt=json")
    expires = int(channel["expiration"]) / 1000 - datetime.now(UTC).timestamp()
    assert 3500 < expires <= 3600
    assert call(fake, "POST", f"{EVENTS}/watch", json=body).status_code == 400  # id reused
    stop = {"id": "chan-1", "resourceId": channel["resourceId"]}
    assert call(fake, "POST", "/channels/stop", json=stop).status_code == 204
    assert call(fake, "POST", "/channels/stop", json=stop).status_code == 404
    assert fake.channels() == [] and fake.stopped() == ["chan-1"]


def test_scripted_answers_replace_the_next_calls(fake: FakeCalendarClient) -> None:
    fake.script([{"status": 503, "body": {"error": {"code": 503}}}])
    assert call(fake, "GET", EVENTS).status_code == 503
    assert call(fake, "GET", EVENTS).status_code == 200
    assert [r.get("scripted", False) for r in fake.requests()] == [True, False]


def test_notify_pushes_the_documented_headers_to_the_channel_address(
    fake: FakeCalendarClient,
) -> None:
    received: list[dict[str, str]] = []

    async def hook(request: Request) -> Response:
        received.append(dict(request.headers) | {"body": (await request.body()).decode()})
        return Response(status_code=200)

    with serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        body = {"id": "chan-2", "type": "web_hook", "address": f"{url}/hook", "token": "t0k"}
        channel = call(fake, "POST", f"{EVENTS}/watch", json=body).json()
        assert fake.notify("chan-2") == 200
        assert fake.notify("chan-2", state="not_exists") == 200
    first, second = received
    assert first["body"] == ""
    assert first["x-goog-channel-id"] == "chan-2" and first["x-goog-channel-token"] == "t0k"
    assert first["x-goog-resource-id"] == channel["resourceId"]
    assert (
        first["x-goog-resource-state"] == "exists"
        and second["x-goog-resource-state"] == "not_exists"
    )
    assert int(second["x-goog-message-number"]) > int(first["x-goog-message-number"]) > 1
    assert first["x-goog-channel-expiration"].endswith(" GMT")


def test_the_module_runs_as_a_server(tmp_path: Path) -> None:
    port = free_port()
    process = ManagedProcess(
        "google_calendar_fake",
        [sys.executable, "-m", "atende.devstack.google_calendar_fake", "--port", str(port)],
        {"PATH": "/usr/bin:/bin"},
        tmp_path / "fake.log",
        cwd=tmp_path,
    )
    process.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/_fake/health", 30, process)
        assert FakeCalendarClient(f"http://127.0.0.1:{port}").health()
    finally:
        process.stop()
