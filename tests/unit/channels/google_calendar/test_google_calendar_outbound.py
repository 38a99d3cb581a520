"""Appointment bodies for events.insert and events.patch, within Google's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from atende.channels.google_calendar.outbound import event_changes, new_event
from atende.errors import InvalidOutboundMessageError

BRT = timezone(timedelta(hours=-3))
START = datetime(2026, 12, 1, 10, tzinfo=BRT)
END = START + timedelta(hours=1)


def test_a_new_appointment_names_its_contact_in_a_private_property() -> None:
    body = new_event(
        summary="Consulta",
        start=START,
        end=END,
        contact_ref="whatsapp:5511999990000",
        location="Rua das Flores, 100",
        description="Primeira consulta",
        time_zone="America/Sao_Paulo",
    )
    assert body == {
        "summary": "Consulta",
        "start": {"dateTime": "2026-12-01T10:00:00-03:00", "timeZone": "America/Sao_Paulo"},
        "end": {"dateTime": "2026-12-01T11:00:00-03:00", "timeZone": "America/Sao_Paulo"},
        "location": "Rua das Flores, 100",
        "description": "Primeira consulta",
        "extendedProperties": {"private": {"atende_contact": "whatsapp:5511999990000"}},
    }


def test_an_appointment_without_a_contact_has_no_property() -> None:
    body = new_event(summary="Reunião interna", start=START, end=END)
    assert "extendedProperties" not in body
    assert body["start"] == {"dateTime": "2026-12-01T10:00:00-03:00"}


def test_a_change_sends_only_what_changes() -> None:
    moved = START.astimezone(UTC) + timedelta(days=1)
    assert event_changes(start=moved, end=moved + timedelta(hours=1)) == {
        "start": {"dateTime": "2026-12-02T13:00:00+00:00"},
        "end": {"dateTime": "2026-12-02T14:00:00+00:00"},
    }
    assert event_changes(contact_ref="telegram:42") == {
        "extendedProperties": {"private": {"atende_contact": "telegram:42"}}
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"contact_ref": "5511999990000"}, id="no-channel"),
        pytest.param({"contact_ref": "whatsapp:"}, id="no-contact"),
        pytest.param({"contact_ref": "whatsapp:" + "9" * 1016}, id="over-1024"),
        pytest.param({"end": START}, id="empty-range"),
        pytest.param({"end": START - timedelta(minutes=1)}, id="ends-before-start"),
        pytest.param({"start": START.replace(tzinfo=None)}, id="naive-start"),
        pytest.param({"summary": "  "}, id="blank-summary"),
    ],
)
def test_what_google_would_refuse_or_truncate_is_refused_before_sending(
    kwargs: dict[str, object],
) -> None:
    values: dict[str, object] = {"summary": "Consulta", "start": START, "end": END, **kwargs}
    with pytest.raises(InvalidOutboundMessageError):
        new_event(**values)  # type: ignore[arg-type]


def test_the_longest_contact_google_keeps_whole_is_accepted() -> None:
    ref = "whatsapp:" + "9" * 1015
    body = new_event(summary="Consulta", start=START, end=END, contact_ref=ref)
    assert body["extendedProperties"]["private"]["atende_contact"] == ref


def test_an_empty_change_is_refused() -> None:
    with pytest.raises(InvalidOutboundMessageError):
        event_changes()
