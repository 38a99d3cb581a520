"""The Apple Calendar sync against a real CalDAV server (Radicale on 127.0.0.1, started here):
initial sync, created / edited / deleted / cancelled appointments, a refused token, a calendar
answering with etags only (as iCloud may), wrong, missing and unreachable credentials."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from atende.adapters.clock import SystemClock
from atende.channels.apple_calendar.changes import strip_etag
from atende.channels.apple_calendar.client import CalDavClient, Credentials
from atende.channels.apple_calendar.errors import CalDavUnauthorizedError, InvalidSyncTokenError
from atende.channels.apple_calendar.sample import delete_event, event_ics, put_event
from atende.channels.apple_calendar.state import Known, SyncState, state_key
from atende.channels.apple_calendar.sync import AppleCalendarSync, credentials_from
from atende.devstack.processes import free_port
from atende.devstack.radicale_server import RadicaleServer
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    UnsupportedEvent,
)
from atende.errors import ConfigurationError, TransientError

CONTACT = "whatsapp:5511999990000"
BOGUS_TOKEN = "http://radicale.org/ns/sync/" + "0" * 64


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    with RadicaleServer(Path(tmp_path_factory.mktemp("caldav"))) as server:
        yield server


@pytest.fixture
def calendar(radicale: RadicaleServer) -> str:
    """A fresh, empty calendar collection for each test."""
    return radicale.make_calendar(f"cal-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def credentials(radicale: RadicaleServer) -> Credentials:
    return Credentials(radicale.username, radicale.password)


class MemoryState:
    """The ChannelStateStore, in memory; values go through JSON like a real store's would."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}
        self.puts = 0

    def get(self, key):
        return copy.deepcopy(self.docs.get(key))

    def put(self, key, value):
        self.puts += 1
        self.docs[key] = json.loads(json.dumps(value))

    def with_prefix(self, prefix):
        return {k: v for k, v in self.docs.items() if k.startswith(prefix)}


def make_sync(credentials: Credentials, state: MemoryState, client_type=CalDavClient):
    return AppleCalendarSync(
        lambda: client_type(credentials, 10.0), lambda: state, SystemClock(), UTC
    )


def at(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def put(calendar, credentials, name, when, *, create=True, **kwargs) -> str:
    uid = f"{name}@atende.test"
    etag = put_event(
        calendar,
        uid,
        event_ics(uid, kwargs.pop("summary", "Consulta"), when, **kwargs),
        credentials,
        create=create,
    )
    assert etag
    return etag


def poll(sync: AppleCalendarSync, calendar: str):
    """One sync, then the cursor stored (what sync_calendar does once tasks are enqueued)."""
    changes = sync.changes("demo", calendar)
    sync.advance(calendar, changes.cursor)
    return list(changes.events)


def test_the_initial_sync_announces_upcoming_appointments_only_and_stores_the_token(
    calendar, credentials
):
    put(calendar, credentials, "soon", at(2), contact_ref=CONTACT, summary="Consulta")
    put(calendar, credentials, "last-week", at(-7), contact_ref=CONTACT)
    state = MemoryState()
    sync = make_sync(credentials, state)

    (event,) = poll(sync, calendar)

    assert isinstance(event, CalendarEventCreated)
    assert (event.calendar_event_id, event.contact_ref) == ("soon@atende.test", CONTACT)
    stored = SyncState.from_json(state.get(state_key(calendar)))
    assert stored.token and stored.token.startswith("http://radicale.org/ns/sync/")
    assert [known.uid for known in stored.members.values()] == ["soon@atende.test"]
    assert poll(sync, calendar) == []


def test_created_edited_and_deleted_appointments(calendar, credentials):
    state = MemoryState()
    sync = make_sync(credentials, state)
    assert poll(sync, calendar) == []  # an empty calendar: just the token

    when = at(3)
    etag = put(calendar, credentials, "visit", when, contact_ref=CONTACT, location="Sala 2")
    (created,) = poll(sync, calendar)
    assert isinstance(created, CalendarEventCreated)
    assert created.event_id == f"visit@atende.test:{strip_etag(etag)}"
    assert created.contact_ref == CONTACT
    assert (created.summary, created.location, created.starts_at) == ("Consulta", "Sala 2", when)
    assert created.account_id == created.calendar_id == calendar

    later = when + timedelta(hours=2)
    etag = put(
        calendar, credentials, "visit", later, create=False, contact_ref=CONTACT,
        summary="Consulta (novo horário)", sequence=1,
    )  # fmt: skip
    (updated,) = poll(sync, calendar)
    assert isinstance(updated, CalendarEventUpdated)
    assert (updated.summary, updated.starts_at) == ("Consulta (novo horário)", later)
    assert updated.event_id == f"visit@atende.test:{strip_etag(etag)}"

    delete_event(calendar, "visit@atende.test", credentials)
    (cancelled,) = poll(sync, calendar)
    assert isinstance(cancelled, CalendarEventCancelled)
    # A deletion carries only the href: what it was comes from the remembered map.
    assert (cancelled.summary, cancelled.starts_at, cancelled.contact_ref) == (
        "Consulta (novo horário)",
        later,
        CONTACT,
    )
    assert cancelled.event_id.endswith(f"visit@atende.test.ics:deleted:{strip_etag(etag)}")
    assert poll(sync, calendar) == []


def test_a_cancelled_status_is_a_cancellation_and_the_later_deletion_is_not_news(
    calendar, credentials
):
    state = MemoryState()
    sync = make_sync(credentials, state)
    put(calendar, credentials, "call-off", at(1), contact_ref=CONTACT)
    poll(sync, calendar)
    put(calendar, credentials, "call-off", at(1), create=False, contact_ref=CONTACT,
        status="CANCELLED", sequence=1)  # fmt: skip
    (event,) = poll(sync, calendar)
    assert isinstance(event, CalendarEventCancelled)
    delete_event(calendar, "call-off@atende.test", credentials)
    assert poll(sync, calendar) == []


def test_a_token_the_server_refuses_means_a_full_resync_without_past_notices(calendar, credentials):
    with pytest.raises(InvalidSyncTokenError):
        CalDavClient(credentials, 10.0).sync_page(calendar, BOGUS_TOKEN)

    kept_etag = put(calendar, credentials, "kept", at(2), contact_ref=CONTACT)
    put(calendar, credentials, "new", at(4), contact_ref=CONTACT)
    put(calendar, credentials, "history", at(-3), contact_ref=CONTACT)
    prefix = calendar.split("://", 1)[1].split("/", 1)[1]
    remembered = {
        f"/{prefix}kept@atende.test.ics": Known(
            etag=kept_etag, uid="kept@atende.test", starts_at=at(2), contact_ref=CONTACT
        ),
        f"/{prefix}ghost@atende.test.ics": Known(
            etag='"g1"', uid="ghost@atende.test", starts_at=at(5), summary="Retorno",
            contact_ref=CONTACT,
        ),
    }  # fmt: skip
    state = MemoryState()
    state.put(state_key(calendar), SyncState(BOGUS_TOKEN, remembered).to_json())

    events = poll(make_sync(credentials, state), calendar)

    kinds = {type(event): event for event in events}
    assert set(kinds) == {CalendarEventCreated, CalendarEventCancelled}
    assert kinds[CalendarEventCreated].calendar_event_id == "new@atende.test"
    # Deleted while our token was invalid: found missing from the full listing.
    assert kinds[CalendarEventCancelled].calendar_event_id == "ghost@atende.test"
    assert kinds[CalendarEventCancelled].summary == "Retorno"
    stored = SyncState.from_json(state.get(state_key(calendar)))
    assert stored.token != BOGUS_TOKEN and stored.token.startswith("http://radicale.org/")


class EtagsOnlyClient(CalDavClient):
    """Answers sync-collection like a server that gives etags but no calendar-data."""

    def sync_page(self, url, token):
        from dataclasses import replace

        page = super().sync_page(url, token)
        return replace(page, members=tuple(replace(m, calendar_data=None) for m in page.members))


def test_members_listed_without_data_are_fetched_by_calendar_multiget(calendar, credentials):
    sync = make_sync(credentials, MemoryState(), EtagsOnlyClient)
    poll(sync, calendar)
    put(calendar, credentials, "fetched", at(2), contact_ref=CONTACT, summary="Exame")
    (event,) = poll(sync, calendar)
    assert isinstance(event, CalendarEventCreated)
    assert (event.summary, event.contact_ref) == ("Exame", CONTACT)


def test_a_task_in_the_calendar_is_kept_as_unsupported(calendar, credentials):
    sync = make_sync(credentials, MemoryState())
    poll(sync, calendar)
    todo = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\n"
        "UID:todo@atende.test\r\nDTSTAMP:20300101T000000Z\r\nSUMMARY:Ligar\r\n"
        "END:VTODO\r\nEND:VCALENDAR\r\n"
    )
    put_event(calendar, "todo@atende.test", todo, credentials)
    (event,) = poll(sync, calendar)
    assert isinstance(event, UnsupportedEvent) and event.reason == "no_vevent:VTODO"
    assert poll(sync, calendar) == []


def test_a_wrong_app_password_is_a_clear_configuration_error_and_stores_nothing(calendar, radicale):
    state = MemoryState()
    sync = make_sync(Credentials(radicale.username, "wrong-password"), state)
    with pytest.raises(CalDavUnauthorizedError) as raised:
        sync.changes("demo", calendar)
    assert "app-specific password" in str(raised.value)
    assert "wrong-password" not in str(raised.value)
    assert state.puts == 0


def test_a_missing_app_password_fails_closed_before_asking_the_server(calendar, radicale):
    state = MemoryState()
    sync = AppleCalendarSync(
        lambda: CalDavClient(credentials_from(radicale.username, None), 10.0),
        lambda: state,
        SystemClock(),
        UTC,
    )
    with pytest.raises(ConfigurationError) as raised:
        sync.changes("demo", calendar)
    assert raised.value.code == "caldav_password_missing"
    assert state.docs == {}


def test_an_unreachable_server_is_transient(credentials):
    calendar = f"http://127.0.0.1:{free_port()}/{credentials.username}/cal/"
    state = MemoryState()
    with pytest.raises(TransientError):
        make_sync(credentials, state).changes("demo", calendar)
    assert state.puts == 0


def test_a_calendar_that_does_not_exist_is_permanent(radicale, credentials):
    from atende.errors import ProviderPermanentError

    with pytest.raises(ProviderPermanentError) as raised:
        make_sync(credentials, MemoryState()).changes(
            "demo", radicale.collection_url("no-such-calendar")
        )
    assert raised.value.code == "caldav_not_found"


def test_the_dev_server_reuses_an_existing_calendar(radicale, calendar, credentials):
    put(calendar, credentials, "stays", at(1))
    name = calendar.rstrip("/").rsplit("/", 1)[1]
    assert radicale.make_calendar(name) == calendar
    events = poll(make_sync(credentials, MemoryState()), calendar)
    assert [event.calendar_event_id for event in events] == ["stays@atende.test"]
