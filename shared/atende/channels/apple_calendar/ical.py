"""Reads the appointment in one CalDAV calendar object resource (RFC 4791 §4.1, RFC 5545).

A resource holds one VEVENT, or a recurring one's master plus its overridden instances (same
UID, each with a RECURRENCE-ID); the master speaks for the resource. Anything that is not an
event (a VTODO, a VJOURNAL) or cannot be read raises `NotAnAppointment` with a short reason,
so the caller keeps it as an unsupported event instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from icalendar import Calendar, Component

#: The property naming who an appointment is for: "<channel>:<contact id>", for example
#: "whatsapp:5511999990000". Whoever creates the appointment (the CRM) sets it.
CONTACT_PROPERTY = "X-ATENDE-CONTACT"

_CONTACT_REF = re.compile(r"^([a-z][a-z0-9_]{0,39}):([^\s:][^\s]{0,255})$")
_CANCELLED = "CANCELLED"


class NotAnAppointment(Exception):
    """The resource holds no appointment we can read; `reason` is short and PII-free."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Appointment:
    uid: str
    summary: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    location: str | None
    #: STATUS:CANCELLED: the organizer called it off but kept it in the calendar.
    cancelled: bool
    #: "<channel>:<contact id>" from X-ATENDE-CONTACT; None when absent or not of that shape.
    contact_ref: str | None
    #: A repeating series (RRULE/RDATE).
    repeats: bool
    #: The latest UNTIL of its rules; None for a series without one (COUNT, endless, RDATE).
    repeats_until: datetime | None
    #: LAST-MODIFIED, else DTSTAMP: when this version was written.
    modified_at: datetime | None

    def upcoming(self, now: datetime) -> bool:
        """Still ahead of us: it starts after `now`, or it is a series not yet over."""
        if self.repeats:
            return self.repeats_until is None or self.repeats_until > now
        return self.starts_at is not None and self.starts_at > now


def parse_appointment(data: str, floating_zone: tzinfo = UTC) -> Appointment:
    """The appointment in a calendar object; raise NotAnAppointment otherwise.

    Times without a zone ("floating") and all-day dates are read in `floating_zone`: iCalendar
    gives them no zone, and an appointment still happens at a wall-clock time somewhere.
    """
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError, TypeError):
        raise NotAnAppointment("malformed_calendar_data") from None
    if not isinstance(calendar, Calendar):
        raise NotAnAppointment("malformed_calendar_data")
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if not events:
        kinds = sorted({str(c.name) for c in calendar.subcomponents if c.name != "VTIMEZONE"})
        raise NotAnAppointment("no_vevent:" + ",".join(kinds) if kinds else "no_vevent")
    masters = [event for event in events if event.get("RECURRENCE-ID") is None]
    event = masters[0] if masters else events[0]
    uid = _text(event.get("UID"))
    if not uid:
        raise NotAnAppointment("missing_uid")
    starts_at = _moment(_decoded(event, "DTSTART"), floating_zone)
    repeats, repeats_until = _series(event)
    return Appointment(
        uid=uid,
        summary=_text(event.get("SUMMARY")),
        starts_at=starts_at,
        ends_at=_end(event, starts_at, floating_zone),
        location=_text(event.get("LOCATION")),
        cancelled=(_text(event.get("STATUS")) or "").upper() == _CANCELLED,
        contact_ref=contact_ref(event.get(CONTACT_PROPERTY)),
        repeats=repeats,
        repeats_until=repeats_until,
        modified_at=_moment(_decoded(event, "LAST-MODIFIED"), UTC)
        or _moment(_decoded(event, "DTSTAMP"), UTC),
    )


def contact_ref(value: object) -> str | None:
    """`value` when it reads "<channel>:<contact id>" (no spaces), else None."""
    text = _text(value)
    if text is None:
        return None
    text = text.strip()
    return text if _CONTACT_REF.match(text) else None


def _text(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _decoded(event: Component, name: str) -> Any:
    if event.get(name) is None:
        return None
    try:
        return event.decoded(name)
    except (ValueError, KeyError, TypeError):
        return None


def _moment(value: Any, floating_zone: tzinfo) -> datetime | None:
    """An aware datetime for a DATE or DATE-TIME value (a bad value, stored as text, is None)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=floating_zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=floating_zone)
    return None


def _end(event: Component, starts_at: datetime | None, floating_zone: tzinfo) -> datetime | None:
    explicit = _moment(_decoded(event, "DTEND"), floating_zone)
    if explicit is not None:
        return explicit
    duration = _decoded(event, "DURATION")
    if starts_at is not None and isinstance(duration, timedelta):
        return starts_at + duration
    start_value = _decoded(event, "DTSTART")
    if (
        starts_at is not None
        and isinstance(start_value, date)
        and not isinstance(start_value, datetime)
    ):
        # RFC 5545 §3.6.1: an all-day event without DTEND lasts that one day.
        return starts_at + timedelta(days=1)
    return None


def _series(event: Component) -> tuple[bool, datetime | None]:
    """(repeats, last UNTIL of its rules): None when a rule has no UNTIL (COUNT or endless;
    expanding the series to find its last instance is not worth it here)."""
    if event.get("RRULE") is None and event.get("RDATE") is None:
        return False, None
    if event.get("RDATE") is not None:
        return True, None
    rule = event.get("RRULE")
    last: datetime | None = None
    for item in rule if isinstance(rule, list) else [rule]:
        until = item.get("UNTIL") if hasattr(item, "get") else None
        moment = _moment(until[0] if isinstance(until, list) and until else until, UTC)
        if moment is None:
            return True, None
        last = moment if last is None or moment > last else last
    return True, last
