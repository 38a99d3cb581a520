"""Events resource bodies for creating and changing appointments, checked against Google's
documented limits before any call (a refused or silently truncated property would lose the
link between an appointment and its contact)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atende.channels.google_calendar._items import CONTACT_PROPERTY
from atende.errors import InvalidOutboundMessageError

#: Google truncates longer extended property values silently ("Extended properties", Limits).
MAX_PROPERTY_VALUE = 1024


def _moment(name: str, value: datetime, time_zone: str | None) -> dict[str, str]:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidOutboundMessageError(f"{name} must carry a time zone offset")
    moment = {"dateTime": value.isoformat()}
    if time_zone:
        moment["timeZone"] = time_zone
    return moment


def contact_property(contact_ref: str) -> dict[str, Any]:
    """`extendedProperties.private.atende_contact` = "<channel>:<contact id>"."""
    channel, _, contact = contact_ref.partition(":")
    if not channel or not contact:
        raise InvalidOutboundMessageError("contact_ref must read <channel>:<contact id>")
    if len(contact_ref) > MAX_PROPERTY_VALUE:
        raise InvalidOutboundMessageError(
            f"contact_ref is longer than Google's {MAX_PROPERTY_VALUE}-character limit"
        )
    return {"private": {CONTACT_PROPERTY: contact_ref}}


def _times(start: datetime | None, end: datetime | None, time_zone: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if start is not None:
        body["start"] = _moment("start", start, time_zone)
    if end is not None:
        body["end"] = _moment("end", end, time_zone)
    if start is not None and end is not None and end <= start:
        # Google refuses it (400 timeRangeEmpty).
        raise InvalidOutboundMessageError("an appointment must end after it starts")
    return body


def new_event(
    *,
    summary: str,
    start: datetime,
    end: datetime,
    contact_ref: str | None = None,
    description: str | None = None,
    location: str | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    """The body of events.insert."""
    if not summary.strip():
        raise InvalidOutboundMessageError("an appointment needs a summary")
    body: dict[str, Any] = {"summary": summary, **_times(start, end, time_zone)}
    if description is not None:
        body["description"] = description
    if location is not None:
        body["location"] = location
    if contact_ref is not None:
        body["extendedProperties"] = contact_property(contact_ref)
    return body


def event_changes(
    *,
    summary: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    contact_ref: str | None = None,
    description: str | None = None,
    location: str | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    """The body of events.patch: only the fields given change (patch semantics), and the
    contact property is merged with the event's other private properties."""
    body: dict[str, Any] = _times(start, end, time_zone)
    if summary is not None:
        if not summary.strip():
            raise InvalidOutboundMessageError("an appointment needs a summary")
        body["summary"] = summary
    if description is not None:
        body["description"] = description
    if location is not None:
        body["location"] = location
    if contact_ref is not None:
        body["extendedProperties"] = contact_property(contact_ref)
    if not body:
        raise InvalidOutboundMessageError("nothing to change")
    return body
