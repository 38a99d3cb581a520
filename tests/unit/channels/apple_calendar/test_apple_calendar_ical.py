"""Reading the appointment in a calendar object (RFC 5545 as CalDAV servers store it)."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from atende.channels.apple_calendar.ical import NotAnAppointment, contact_ref, parse_appointment

DATA = Path(__file__).resolve().parents[3] / "data" / "apple_calendar"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def load(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_an_event_with_a_contact_gives_everything_the_notice_needs():
    event = parse_appointment(load("event_with_contact.ics"))
    assert event.uid == "7B1A5D3E-4C2F-4E0A-9F0B-2D6C8E1F3A45"
    assert event.summary == "Consulta de retorno"
    assert event.location == "Clínica Centro, sala 2"
    assert event.contact_ref == "whatsapp:5511999990000"
    assert event.starts_at == datetime(2030, 1, 15, 17, 30, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 1, 15, 18, 30, tzinfo=UTC)
    assert event.modified_at == datetime(2030, 1, 10, 12, 15, tzinfo=UTC)
    assert not event.cancelled and not event.repeats


def test_status_cancelled_is_a_cancellation():
    assert parse_appointment(load("event_cancelled.ics")).cancelled


def test_an_all_day_event_starts_at_midnight_of_the_floating_zone_and_lasts_a_day():
    event = parse_appointment(load("event_all_day.ics"), SAO_PAULO)
    assert event.starts_at == datetime(2030, 1, 20, tzinfo=SAO_PAULO)
    assert event.ends_at == datetime(2030, 1, 21, tzinfo=SAO_PAULO)


def test_a_floating_time_is_read_in_the_floating_zone_and_duration_gives_the_end():
    event = parse_appointment(load("event_floating_time_with_duration.ics"), SAO_PAULO)
    assert event.starts_at == datetime(2030, 1, 21, 12, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 1, 21, 12, 45, tzinfo=UTC)
    assert event.contact_ref is None


def test_a_series_speaks_through_its_master_not_an_overridden_instance():
    event = parse_appointment(load("event_recurring_with_override.ics"))
    assert event.summary == "Fisioterapia"
    assert event.contact_ref == "whatsapp:5511977776666"
    assert event.repeats
    assert event.repeats_until == datetime(2030, 4, 1, tzinfo=UTC)
    # Upcoming while the series runs, even after its first instance.
    assert event.upcoming(datetime(2030, 2, 1, tzinfo=UTC))
    assert not event.upcoming(datetime(2030, 4, 2, tzinfo=UTC))


def test_a_single_event_is_upcoming_only_before_it_starts():
    event = parse_appointment(load("event_with_contact.ics"))
    assert event.upcoming(datetime(2030, 1, 15, 17, 29, tzinfo=UTC))
    assert not event.upcoming(datetime(2030, 1, 15, 17, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("todo.ics", "no_vevent:VTODO"),
        ("event_missing_uid.ics", "missing_uid"),
        ("malformed.ics", "malformed_calendar_data"),
    ],
)
def test_what_is_not_an_appointment_says_why(fixture, reason):
    with pytest.raises(NotAnAppointment) as raised:
        parse_appointment(load(fixture))
    assert raised.value.reason == reason


def test_a_contact_that_is_not_channel_colon_id_is_ignored():
    event = parse_appointment(load("event_contact_not_a_reference.ics"))
    assert event.contact_ref is None
    assert event.summary == "Contato escrito à mão"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("whatsapp:5511999990000", "whatsapp:5511999990000"),
        (" telegram:123456 ", "telegram:123456"),
        ("instagram_dm:17841400000000000", "instagram_dm:17841400000000000"),
        ("whatsapp:", None),
        ("WhatsApp:5511", None),
        ("whatsapp:55 11", None),
        ("5511999990000", None),
        (None, None),
    ],
)
def test_contact_reference_shape(value, expected):
    assert contact_ref(value) == expected
