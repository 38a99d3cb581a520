"""The Google Calendar channel against the local Calendar fake, over real HTTP: booking,
incremental sync, 410, watch renewal, and a notice from the fake through the webhook."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.google_calendar.api import CalendarApi
from atende.channels.google_calendar.connector import GoogleCalendarConnector
from atende.channels.google_calendar.settings import GoogleCalendarSettings
from atende.channels.google_calendar.sync import GoogleCalendarSync, sync_key
from atende.channels.google_calendar.watch import WatchRenewer, watch_key
from atende.channels.google_calendar.writer import CalendarWriter
from atende.devstack.google_calendar_fake import FakeCalendarClient, create_app
from atende.devstack.processes import serve_in_thread
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    CalendarSyncRequested,
)
from atende.errors import InvalidOutboundMessageError, ProviderTransientError
from atende.process_inbound.calendar_sync import sync_calendar
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

CALENDAR = "agenda@loja.example"
TENANT = "loja"
CONTACT = "whatsapp:5511999990000"
SECRET = "integration-channel-secret"


class MemoryState:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.values.get(key))

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = copy.deepcopy(value)

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {k: copy.deepcopy(v) for k, v in self.values.items() if k.startswith(prefix)}


class Queue:
    def __init__(self) -> None:
        self.tasks: list[Any] = []

    def enqueue(self, task: Any) -> bool:
        self.tasks.append(task)
        return True

    def events(self) -> list[Any]:
        return [InboundTask.model_validate_json(t.body).event for t in self.tasks]


class AsyncQueue(Queue):
    async def enqueue(self, task: Any) -> bool:  # type: ignore[override]
        self.tasks.append(task)
        return True


class Clock:
    def __init__(self) -> None:
        self.shift = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def fake(base_url: str) -> FakeCalendarClient:
    client = FakeCalendarClient(base_url)
    client.reset()
    return client


@pytest.fixture
def api(fake: FakeCalendarClient) -> CalendarApi:
    return CalendarApi(fake.api_base_url, 10.0)


def tomorrow(hours: int = 0) -> datetime:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return start + timedelta(days=1, hours=hours)


def book(api: CalendarApi, hours: int = 0, contact: str | None = CONTACT) -> dict[str, Any]:
    start = tomorrow(hours)
    return CalendarWriter(api).create(
        CALENDAR,
        summary="Consulta",
        start=start,
        end=start + timedelta(hours=1),
        contact_ref=contact,
        location="Rua das Flores, 100",
    )


def run_sync(sync: GoogleCalendarSync) -> list[Any]:
    queue = Queue()
    sync_calendar(
        sync,
        queue,
        tenant_id=TENANT,
        calendar_id=CALENDAR,
        received_at=datetime.now(UTC),
        correlation_id="it",
    )
    return queue.events()


def test_the_writer_books_an_appointment_for_a_contact(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    created = book(api)
    [stored] = fake.events(CALENDAR)
    assert stored["id"] == created["id"]
    assert stored["extendedProperties"] == {"private": {"atende_contact": CONTACT}}
    assert datetime.fromisoformat(stored["start"]["dateTime"]) == tomorrow()
    moved = CalendarWriter(api).update(CALENDAR, created["id"], start=tomorrow(2), end=tomorrow(3))
    assert moved["sequence"] == 1 and moved["extendedProperties"] == stored["extendedProperties"]
    with pytest.raises(InvalidOutboundMessageError):
        CalendarWriter(api).create(CALENDAR, summary="x", start=tomorrow(1), end=tomorrow())
    assert len(fake.requests()) == 2  # the refused one never left


def test_sync_reads_every_page_and_stores_the_token_only_on_advance(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    booked = [book(api, hours) for hours in range(5)]
    state = MemoryState()
    sync = GoogleCalendarSync(api, lambda: state, SystemClock(), page_size=2)
    changes = sync.changes(TENANT, CALENDAR)
    assert [e.calendar_event_id for e in changes.events] == [b["id"] for b in booked]
    assert all(isinstance(e, CalendarEventCreated) for e in changes.events)
    assert {e.contact_ref for e in changes.events} == {CONTACT}
    assert [r["query"].get("pageToken") is not None for r in fake.requests()[5:]] == [
        False,
        True,
        True,
    ]
    assert sync_key(CALENDAR) not in state.values
    sync.advance(CALENDAR, changes.cursor)
    assert state.values[sync_key(CALENDAR)]["sync_token"] == changes.cursor["sync_token"]
    assert sync.changes(TENANT, CALENDAR).events == ()


def test_an_appointment_moved_then_deleted_reaches_its_contact_each_time(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    state = MemoryState()
    sync = GoogleCalendarSync(api, lambda: state, SystemClock())
    booked = book(api)
    [created] = run_sync(sync)
    CalendarWriter(api).update(CALENDAR, booked["id"], start=tomorrow(4), end=tomorrow(5))
    [updated] = run_sync(sync)
    with fake_session(fake) as session:
        deleted = session.delete(
            f"{fake.api_base_url}/calendars/agenda%40loja.example/events/{booked['id']}", timeout=10
        )
        assert deleted.status_code == 204
    [cancelled] = run_sync(sync)
    assert isinstance(created, CalendarEventCreated)
    assert isinstance(updated, CalendarEventUpdated) and updated.starts_at == tomorrow(4)
    assert isinstance(cancelled, CalendarEventCancelled)
    # The deleted item carries only its id: who and when come from what we saw before.
    assert cancelled.contact_ref == CONTACT and cancelled.starts_at == tomorrow(4)
    assert len({created.event_id, updated.event_id, cancelled.event_id}) == 3


def test_an_expired_sync_token_leads_to_a_full_sync_of_future_appointments(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    state = MemoryState()
    sync = GoogleCalendarSync(api, lambda: state, SystemClock())
    run_sync(sync)
    start = datetime.now(UTC) - timedelta(days=2)
    CalendarWriter(api).create(
        CALENDAR,
        summary="Passada",
        start=start,
        end=start + timedelta(hours=1),
        contact_ref=CONTACT,
    )
    upcoming = book(api)
    old_token = state.values[sync_key(CALENDAR)]["sync_token"]
    fake.expire_sync_tokens(CALENDAR)
    events = run_sync(sync)
    assert [e.calendar_event_id for e in events] == [upcoming["id"]]
    calls = fake.requests()[-2:]
    assert calls[0]["query"]["syncToken"] == old_token
    assert "syncToken" not in calls[1]["query"] and "timeMin" in calls[1]["query"]
    assert state.values[sync_key(CALENDAR)]["sync_token"] != old_token


def test_a_google_outage_leaves_the_cursor_for_the_retry(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    state = MemoryState()
    sync = GoogleCalendarSync(api, lambda: state, SystemClock())
    run_sync(sync)
    token = state.values[sync_key(CALENDAR)]
    book(api)
    fake.script([{"status": 503, "body": {"error": {"code": 503, "errors": []}}}])
    with pytest.raises(ProviderTransientError):
        run_sync(sync)
    assert state.values[sync_key(CALENDAR)] == token
    assert len(run_sync(sync)) == 1


def renewer(api: CalendarApi, state: MemoryState, queue: Queue, clock: Clock, hook: str) -> Any:
    settings = GoogleCalendarSettings(
        calendars={CALENDAR: TENANT}, webhook_url=hook, _env_file=None
    )
    secrets = EnvSecretSource(environ={"GOOGLE_CALENDAR_CHANNEL_SECRET": SECRET}, dotenv_path=None)
    return WatchRenewer(api, settings, secrets, lambda: state, lambda: queue, clock)


def test_the_watch_job_opens_keeps_and_renews_the_channel(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    state, queue, clock = MemoryState(), Queue(), Clock()
    job = renewer(api, state, queue, clock, "http://127.0.0.1:1/google_calendar_webhook")
    assert job()["created"] == 1
    [first] = fake.channels()
    assert first["address"] == "http://127.0.0.1:1/google_calendar_webhook"
    assert state.values[watch_key(CALENDAR)]["resourceId"] == first["resourceId"]
    assert job()["kept"] == 1 and len(fake.channels()) == 1

    clock.shift = timedelta(days=6, hours=1)  # within a day of the 7-day expiration
    report = job()
    assert (report["renewed"], report["stopped"]) == (1, 1)
    [second] = fake.channels()
    assert second["id"] != first["id"] and fake.stopped() == [first["id"]]
    assert [e.type for e in queue.events()] == ["calendar_sync_requested"] * 3


def test_a_notice_from_google_on_the_jobs_channel_passes_the_webhook(
    api: CalendarApi, fake: FakeCalendarClient
) -> None:
    secrets = EnvSecretSource(environ={"GOOGLE_CALENDAR_CHANNEL_SECRET": SECRET}, dotenv_path=None)
    connector = GoogleCalendarConnector(secrets, {CALENDAR: TENANT}, SystemClock())
    inbound = AsyncQueue()
    edge = WebhookEdge(connector, inbound, 1024 * 1024, SystemClock())

    async def webhook(request: Request) -> Response:
        answer = await edge.handle(
            EdgeRequest(method=request.method, headers=request.headers, body=await request.body()),
            "it",
        )
        return Response(answer.body, status_code=answer.status)

    app = Starlette(routes=[Route("/google_calendar_webhook", webhook, methods=["POST"])])
    with serve_in_thread(app) as url:
        renewer(api, MemoryState(), Queue(), Clock(), f"{url}/google_calendar_webhook")()
        [channel] = fake.channels()
        assert fake.notify(channel["id"], state="sync") == 200
        assert fake.notify(channel["id"]) == 200
    [event] = inbound.events()
    assert isinstance(event, CalendarSyncRequested) and event.calendar_id == CALENDAR
    assert InboundTask.model_validate_json(inbound.tasks[0].body).tenant_id == TENANT
    # A notice on a channel someone else opened on the calendar is refused.
    assert (
        asyncio.run(
            edge.handle(
                EdgeRequest(
                    method="POST",
                    headers={
                        "X-Goog-Channel-ID": "01234567-89ab-cdef-0123456789ab",
                        "X-Goog-Channel-Token": "target=myApp",
                        "X-Goog-Resource-State": "exists",
                        "X-Goog-Message-Number": "2",
                    },
                ),
                "it",
            )
        ).status
        == 401
    )


def fake_session(fake: FakeCalendarClient) -> Any:
    import requests

    session = requests.Session()
    session.trust_env = False
    return session
