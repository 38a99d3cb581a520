"""The incremental sync: pages, sync tokens stored only on advance, 410 → full sync, and
each change read as created, updated or cancelled for the contact it names."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from gcal_support import (
    CALENDAR,
    NOW,
    TENANT,
    FixedClock,
    MemoryState,
    ScriptedApi,
    fixture,
    gone,
    page,
)

from atende.channels.google_calendar.sync import GoogleCalendarSync, sync_key
from atende.domain import keys
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    UnsupportedEvent,
)
from atende.errors import ProviderTransientError
from atende.process_inbound.calendar_sync import sync_calendar
from atende.tasks.contracts import InboundTask

CONFIRMED = fixture("event_confirmed_with_contact.json")
RESCHEDULED = fixture("event_rescheduled_with_contact.json")
CANCELLED = fixture("event_cancelled_full.json")
DELETED = fixture("event_cancelled_deleted.json")
ALL_DAY = fixture("event_all_day_without_contact.json")


def past(item: dict[str, Any]) -> dict[str, Any]:
    earlier = copy.deepcopy(item)
    earlier["id"] = "past" + item["id"][4:]
    earlier["start"] = {"dateTime": "2026-11-20T10:00:00-03:00"}
    earlier["end"] = {"dateTime": "2026-11-20T11:00:00-03:00"}
    return earlier


def make(api: ScriptedApi, state: MemoryState) -> GoogleCalendarSync:
    return GoogleCalendarSync(api, lambda: state, FixedClock())  # type: ignore[arg-type]


def synced(state: MemoryState, token: str = "tok-1") -> MemoryState:
    state.values[sync_key(CALENDAR)] = {"sync_token": token}
    return state


def test_the_first_sync_is_a_full_sync_of_appointments_still_to_come(state: MemoryState) -> None:
    api = ScriptedApi([page([CONFIRMED, past(CONFIRMED), ALL_DAY], sync="tok-1")])
    changes = make(api, state).changes(TENANT, CALENDAR)

    [(_, call)] = api.calls
    assert call["sync_token"] is None and call["time_min"] == "2026-11-25T15:00:00Z"
    # Oldest change first: the holiday was last changed before the appointment was made.
    assert [type(e) for e in changes.events] == [CalendarEventUpdated, CalendarEventCreated]
    assert [e.calendar_event_id for e in changes.events] == [ALL_DAY["id"], CONFIRMED["id"]]
    assert changes.cursor == {"sync_token": "tok-1"}
    assert sync_key(CALENDAR) not in state.values


def test_the_token_is_stored_only_on_advance_and_used_next_time(state: MemoryState) -> None:
    api = ScriptedApi([page([], sync="tok-1"), page([], sync="tok-2")])
    sync = make(api, state)
    changes = sync.changes(TENANT, CALENDAR)
    assert state.get(sync_key(CALENDAR)) is None
    sync.advance(CALENDAR, changes.cursor)
    assert state.get(sync_key(CALENDAR)) == {
        "sync_token": "tok-1",
        "synced_at": "2026-11-25T15:00:00Z",
    }
    sync.changes(TENANT, CALENDAR)
    assert api.calls[1][1]["sync_token"] == "tok-1" and api.calls[1][1]["time_min"] is None


def test_every_page_is_read_with_the_same_token(state: MemoryState) -> None:
    api = ScriptedApi(
        [page([CONFIRMED], next_page="p2"), page([ALL_DAY], next_page="p3"), page([], sync="t2")]
    )
    changes = make(api, synced(state)).changes(TENANT, CALENDAR)
    assert [c["page_token"] for _, c in api.calls] == [None, "p2", "p3"]
    assert {c["sync_token"] for _, c in api.calls} == {"tok-1"}
    assert len(changes.events) == 2 and changes.cursor == {"sync_token": "t2"}


def test_a_410_turns_into_a_full_sync_without_past_appointments(state: MemoryState) -> None:
    api = ScriptedApi([gone(), page([CONFIRMED, past(RESCHEDULED)], sync="fresh")])
    changes = make(api, synced(state)).changes(TENANT, CALENDAR)
    assert [c["sync_token"] for _, c in api.calls] == ["tok-1", None]
    assert api.calls[1][1]["time_min"] == "2026-11-25T15:00:00Z"
    assert [e.calendar_event_id for e in changes.events] == [CONFIRMED["id"]]
    assert changes.cursor == {"sync_token": "fresh"}


def test_a_410_on_a_later_page_restarts_as_a_full_sync(state: MemoryState) -> None:
    api = ScriptedApi([page([ALL_DAY], next_page="p2"), gone(), page([CONFIRMED], sync="f")])
    changes = make(api, synced(state)).changes(TENANT, CALENDAR)
    assert [e.calendar_event_id for e in changes.events] == [CONFIRMED["id"]]


def test_a_410_during_a_full_sync_is_retried_later(state: MemoryState) -> None:
    with pytest.raises(ProviderTransientError):
        make(ScriptedApi([gone()]), state).changes(TENANT, CALENDAR)


def test_a_full_sync_announces_no_cancellations(state: MemoryState) -> None:
    changes = make(ScriptedApi([page([CANCELLED], sync="t")]), state).changes(TENANT, CALENDAR)
    assert changes.events == ()


def test_an_appointment_is_created_then_updated_then_cancelled(state: MemoryState) -> None:
    api = ScriptedApi(
        [
            page([CONFIRMED], sync="t2"),
            page([RESCHEDULED], sync="t3"),
            page([CANCELLED], sync="t4"),
        ]
    )
    sync = make(api, synced(state))
    kinds = []
    for _ in range(3):
        changes = sync.changes(TENANT, CALENDAR)
        sync.advance(CALENDAR, changes.cursor)
        kinds.extend(changes.events)
    assert [type(e) for e in kinds] == [
        CalendarEventCreated,
        CalendarEventUpdated,
        CalendarEventCancelled,
    ]
    assert {e.contact_ref for e in kinds} == {"whatsapp:5511999990000"}
    assert len({e.event_id for e in kinds}) == 3


def test_an_appointment_first_seen_in_a_later_version_is_still_new(state: MemoryState) -> None:
    # Created and moved before one sync: the contact never heard of it.
    changes = make(ScriptedApi([page([RESCHEDULED], sync="t")]), synced(state)).changes(
        TENANT, CALENDAR
    )
    assert [type(e) for e in changes.events] == [CalendarEventCreated]


def test_fetching_the_same_changes_again_reads_them_the_same_way(state: MemoryState) -> None:
    # A crash before advance: the retry sees the same version and must not call it updated.
    api = ScriptedApi([page([CONFIRMED], sync="t2"), page([CONFIRMED], sync="t2")])
    sync = make(api, synced(state))
    first = sync.changes(TENANT, CALENDAR).events
    writes = len(state.puts)
    again = sync.changes(TENANT, CALENDAR).events
    assert first == again and isinstance(again[0], CalendarEventCreated)
    assert len(state.puts) == writes  # nothing new to remember


def test_a_deleted_appointment_is_cancelled_for_the_contact_it_was_for(
    state: MemoryState,
) -> None:
    api = ScriptedApi([page([RESCHEDULED], sync="t2"), page([DELETED], sync="t3")])
    sync = make(api, synced(state))
    sync.advance(CALENDAR, sync.changes(TENANT, CALENDAR).cursor)
    [cancelled] = sync.changes(TENANT, CALENDAR).events
    assert isinstance(cancelled, CalendarEventCancelled)
    assert cancelled.contact_ref == "whatsapp:5511999990000"
    assert cancelled.starts_at is not None and cancelled.starts_at.day == 2
    assert cancelled.summary == "Consulta"
    assert cancelled.raw == DELETED


def test_a_deleted_appointment_never_seen_is_still_reported(state: MemoryState) -> None:
    [cancelled] = (
        make(ScriptedApi([page([DELETED], sync="t")]), synced(state))
        .changes(TENANT, CALENDAR)
        .events
    )
    assert isinstance(cancelled, CalendarEventCancelled) and cancelled.contact_ref is None


def test_changes_to_appointments_already_started_are_not_announced(state: MemoryState) -> None:
    moved_notes = past(RESCHEDULED)
    cancelled_past = past(CANCELLED)
    api = ScriptedApi([page([moved_notes, cancelled_past], sync="t")])
    assert make(api, synced(state)).changes(TENANT, CALENDAR).events == ()


def test_an_appointment_nobody_is_named_for_is_reported_but_not_remembered(
    state: MemoryState,
) -> None:
    fresh = copy.deepcopy(ALL_DAY)
    fresh["updated"] = fresh["created"]
    api = ScriptedApi([page([ALL_DAY, fresh], sync="t")])
    events = make(api, synced(state)).changes(TENANT, CALENDAR).events
    assert [type(e) for e in events] == [CalendarEventCreated, CalendarEventUpdated]
    assert [k for k in state.values if k.startswith("google_calendar:event:")] == []


def test_changes_come_oldest_first_and_unreadable_items_last(state: MemoryState) -> None:
    newer = copy.deepcopy(RESCHEDULED)
    newer["id"], newer["updated"] = "zzz", "2026-11-25T14:59:00.000Z"
    api = ScriptedApi([page([newer, {"status": "confirmed"}, CONFIRMED], sync="t")])
    events = make(api, synced(state)).changes(TENANT, CALENDAR).events
    assert [e.calendar_event_id for e in events[:2]] == [CONFIRMED["id"], "zzz"]
    assert isinstance(events[2], UnsupportedEvent) and events[2].reason == "malformed_item"


def test_a_missing_sync_token_leaves_the_cursor_where_it_was(state: MemoryState) -> None:
    last = page([], sync=None)
    del last["nextSyncToken"]
    sync = make(ScriptedApi([last]), synced(state))
    changes = sync.changes(TENANT, CALENDAR)
    sync.advance(CALENDAR, changes.cursor)
    assert changes.cursor == {} and state.get(sync_key(CALENDAR)) == {"sync_token": "tok-1"}


class RecordingQueue:
    def __init__(self, state: MemoryState) -> None:
        self.state = state
        self.tasks: list[Any] = []
        self.token_when_enqueued: list[Any] = []

    def enqueue(self, task: Any) -> bool:
        self.token_when_enqueued.append(self.state.get(sync_key(CALENDAR)))
        self.tasks.append(task)
        return True


def test_through_the_pipeline_each_change_is_a_task_before_the_cursor_moves(
    state: MemoryState,
) -> None:
    queue = RecordingQueue(synced(state))
    sync = make(ScriptedApi([page([CONFIRMED, ALL_DAY], sync="tok-2")]), state)
    count = sync_calendar(
        sync,
        queue,
        tenant_id=TENANT,
        calendar_id=CALENDAR,
        received_at=NOW + timedelta(seconds=1),
        correlation_id="corr",
    )
    assert count == 2
    assert [t.task_id for t in queue.tasks] == [
        keys.inbound_task_id("google_calendar", f"{ALL_DAY['id']}:{ALL_DAY['updated']}"),
        keys.inbound_task_id("google_calendar", f"{CONFIRMED['id']}:{CONFIRMED['updated']}"),
    ]
    assert {InboundTask.model_validate_json(t.body).tenant_id for t in queue.tasks} == {TENANT}
    assert queue.token_when_enqueued == [{"sync_token": "tok-1"}] * 2
    assert state.get(sync_key(CALENDAR))["sync_token"] == "tok-2"  # type: ignore[index]


def test_logs_name_the_calendar_by_a_hash_and_never_the_contact(
    state: MemoryState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    api = ScriptedApi([gone(), page([CONFIRMED, DELETED], sync="t")])
    make(api, synced(state)).changes(TENANT, CALENDAR)
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'json_fields', '')}" for r in caplog.records)
    assert "full_sync_required" in logged
    for private in (CALENDAR, "5511999990000", "Consulta", "tok-1"):
        assert private not in logged
