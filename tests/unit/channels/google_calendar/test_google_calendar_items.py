"""One Events resource read as the appointment it describes, with Google's own shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from gcal_support import CALENDAR, NOW, fixture

from atende.channels.google_calendar._items import calendar_event, malformed, read_item
from atende.domain.events import CalendarEventCancelled, CalendarEventCreated

BRT = timezone(timedelta(hours=-3))


def test_a_confirmed_event_names_its_contact_time_and_version() -> None:
    item = fixture("event_confirmed_with_contact.json")
    appointment = read_item(item, "America/Sao_Paulo")
    assert appointment is not None
    assert appointment.contact_ref == "whatsapp:5511999990000"
    assert appointment.starts_at == datetime(2026, 12, 1, 10, tzinfo=BRT)
    assert appointment.ends_at == datetime(2026, 12, 1, 11, tzinfo=BRT)
    assert appointment.version == "2026-11-25T14:00:00.123Z"
    assert appointment.made_at_creation and not appointment.cancelled

    event = calendar_event(appointment, CALENDAR, "created", NOW)
    assert isinstance(event, CalendarEventCreated)
    assert event.event_id == "3c7u5ddqnm0ac6d4g1sfa8a0qk:2026-11-25T14:00:00.123Z"
    assert event.calendar_event_id == "3c7u5ddqnm0ac6d4g1sfa8a0qk"
    assert (event.account_id, event.calendar_id) == (CALENDAR, CALENDAR)
    assert (event.summary, event.location) == ("Consulta", "Rua das Flores, 100")
    assert event.occurred_at == datetime(2026, 11, 25, 14, 0, 0, 123000, tzinfo=UTC)
    assert event.raw == item


def test_a_later_version_is_not_the_creation_one() -> None:
    appointment = read_item(fixture("event_rescheduled_with_contact.json"), None)
    assert appointment is not None and not appointment.made_at_creation


def test_an_all_day_event_starts_at_midnight_in_the_calendars_zone() -> None:
    appointment = read_item(fixture("event_all_day_without_contact.json"), "America/Sao_Paulo")
    assert appointment is not None
    assert appointment.starts_at == datetime(2026, 12, 8, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert appointment.contact_ref is None


def test_a_deleted_event_carries_only_its_id_and_still_reads() -> None:
    appointment = read_item(fixture("event_cancelled_deleted.json"), None)
    assert appointment is not None and appointment.cancelled
    assert appointment.starts_at is None and appointment.contact_ref is None
    # No `updated`: the etag tells this version apart.
    assert appointment.version == '"3421786840246000"'
    event = calendar_event(appointment, CALENDAR, "cancelled", NOW)
    assert isinstance(event, CalendarEventCancelled) and event.occurred_at == NOW


def test_a_contact_property_that_is_not_channel_colon_id_is_ignored() -> None:
    for value in ("5511999990000", ":5511", "whatsapp:", 42):
        item = fixture("event_confirmed_with_contact.json")
        item["extendedProperties"]["private"]["atende_contact"] = value
        appointment = read_item(item, None)
        assert appointment is not None and appointment.contact_ref is None


def test_a_shared_property_does_not_name_the_contact() -> None:
    item = fixture("event_confirmed_with_contact.json")
    item["extendedProperties"] = {"shared": {"atende_contact": "whatsapp:5511999990000"}}
    appointment = read_item(item, None)
    assert appointment is not None and appointment.contact_ref is None


def test_wrongly_typed_fields_count_as_absent() -> None:
    item = fixture("event_confirmed_with_contact.json")
    item.update(start="tomorrow", end={"dateTime": "not a time"}, summary=7, updated=1)
    appointment = read_item(item, None)
    assert appointment is not None
    assert (appointment.starts_at, appointment.ends_at, appointment.summary) == (None,) * 3
    assert appointment.version == item["etag"]


def test_an_item_without_an_id_is_kept_as_unsupported() -> None:
    assert read_item({"status": "confirmed"}, None) is None
    assert read_item(["not", "an", "object"], None) is None
    first = malformed({"status": "confirmed"}, CALENDAR)
    assert first.reason == "malformed_item" and first.account_id == CALENDAR
    assert first.event_id == malformed({"status": "confirmed"}, CALENDAR).event_id
    assert malformed([1], CALENDAR).raw == {"item": [1]}


def test_a_time_written_without_an_offset_is_in_the_events_time_zone() -> None:
    item = fixture("event_confirmed_with_contact.json")
    item["start"] = {"dateTime": "2026-12-01T10:00:00", "timeZone": "America/Sao_Paulo"}
    appointment = read_item(item, "UTC")
    assert appointment is not None
    assert appointment.starts_at == datetime(2026, 12, 1, 13, tzinfo=UTC)
