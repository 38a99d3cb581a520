"""Reads one events.list item (an Events resource) and builds the calendar event for it.

Google's shapes are read defensively: a field of the wrong type counts as absent. Deleted
events are only guaranteed to carry their `id`, so everything else may be missing from a
cancelled item; an item without an id becomes an `UnsupportedEvent`, never an exception.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    InboundEvent,
    UnsupportedEvent,
)

CHANNEL = "google_calendar"
#: The private extended property naming the person an appointment is for.
CONTACT_PROPERTY = "atende_contact"
CANCELLED = "cancelled"
#: `created` and `updated` this close together: the version Google made at creation.
SAME_MOMENT = timedelta(seconds=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Kind = Literal["created", "updated", "cancelled"]
_EVENT_TYPES: dict[
    str, type[CalendarEventCreated | CalendarEventUpdated | CalendarEventCancelled]
] = {
    "created": CalendarEventCreated,
    "updated": CalendarEventUpdated,
    "cancelled": CalendarEventCancelled,
}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_rfc3339(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (UTC when it names no offset), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def event_time(value: object, calendar_zone: str | None) -> datetime | None:
    """`start`/`end`: a `dateTime`, or an all-day `date` at midnight in the event's (else
    the calendar's, else UTC) time zone."""
    moment = _obj(value)
    zone = _zone(_str(moment.get("timeZone"))) or _zone(calendar_zone) or UTC
    timed = _str(moment.get("dateTime"))
    if timed is not None:
        try:
            parsed_time = datetime.fromisoformat(timed)
        except ValueError:
            return None
        # Google writes the offset; without one the time is in the event's time zone.
        return parsed_time if parsed_time.tzinfo else parsed_time.replace(tzinfo=zone)
    day = _str(moment.get("date"))
    if day is None:
        return None
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return None
    return datetime.combine(parsed, time(), tzinfo=zone)


def contact_ref(item: dict[str, Any]) -> str | None:
    """`extendedProperties.private.atende_contact` when it reads "<channel>:<contact id>"."""
    private = _obj(_obj(item.get("extendedProperties")).get("private"))
    value = _str(private.get(CONTACT_PROPERTY))
    if value is None:
        return None
    channel, _, contact = value.partition(":")
    return value if channel and contact else None


@dataclass(frozen=True)
class Appointment:
    """What Atende reads from one Events resource."""

    event_id: str
    #: Which version of the event this is: `updated`, else the etag, else "cancelled".
    version: str
    cancelled: bool
    created: datetime | None
    updated: datetime | None
    summary: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    location: str | None
    contact_ref: str | None
    raw: dict[str, Any]

    @property
    def made_at_creation(self) -> bool:
        """This version is the one Google stored when the event was created."""
        if self.created is None or self.updated is None:
            return False
        return abs(self.updated - self.created) <= SAME_MOMENT


def read_item(item: object, calendar_zone: str | None) -> Appointment | None:
    """The appointment in an item; None when the item has no id (not one we can use)."""
    if not isinstance(item, dict):
        return None
    event_id = _str(item.get("id"))
    if event_id is None:
        return None
    updated = _str(item.get("updated"))
    return Appointment(
        event_id=event_id,
        version=updated or _str(item.get("etag")) or CANCELLED,
        cancelled=item.get("status") == CANCELLED,
        created=parse_rfc3339(item.get("created")),
        updated=parse_rfc3339(updated),
        summary=_str(item.get("summary")),
        starts_at=event_time(item.get("start"), calendar_zone),
        ends_at=event_time(item.get("end"), calendar_zone),
        location=_str(item.get("location")),
        contact_ref=contact_ref(item),
        raw=item,
    )


def malformed(item: object, calendar_id: str) -> UnsupportedEvent:
    """An item without an id: kept and audited under a hash of its content."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return UnsupportedEvent(
        channel=CHANNEL,
        event_id="unsupported:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        account_id=calendar_id,
        occurred_at=EPOCH,
        raw=item if isinstance(item, dict) else {"item": item},
        reason="malformed_item",
    )


def calendar_event(
    appointment: Appointment, calendar_id: str, kind: Kind, now: datetime
) -> InboundEvent:
    """The internal event for one change; `event_id` is `<event id>:<version>`, so each
    version of an appointment is processed once."""
    return _EVENT_TYPES[kind](
        channel=CHANNEL,
        event_id=f"{appointment.event_id}:{appointment.version}",
        account_id=calendar_id,
        occurred_at=appointment.updated or now,
        raw=appointment.raw,
        calendar_id=calendar_id,
        calendar_event_id=appointment.event_id,
        summary=appointment.summary,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        location=appointment.location,
        contact_ref=appointment.contact_ref,
    )
