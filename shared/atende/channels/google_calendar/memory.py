"""What we last announced of each appointment that names a contact, per calendar.

Two things need it. Google only guarantees a deleted event's `id` in a sync, so a
cancellation often arrives without the contact or the time: the remembered ones fill in.
And "created" means the first version of an appointment we ever saw (not only Google's own
creation), so a change Google folded into one sync with the creation still reads as new;
re-reading the same version (a retried sync) gives the same answer as the first time.
Stored as channel state `google_calendar:event:<calendar id>:<event id>`.

It names a contact, so it expires (`atende.domain.expiry`): 7 days after the appointment
ends (or starts, when Google gave no end). Only appointments that have not started produce
notices (`sync`), so after that nothing reads it; the week covers clock skew and a late
sync. One whose time Google did not give expires 30 days after it was last written.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from atende.channels.google_calendar._items import Appointment, Kind, parse_rfc3339
from atende.domain import expiry
from atende.ports import ChannelStateStore

_LIVE_KINDS = frozenset({"created", "updated"})

#: How long a memory outlives its appointment, and one whose time is unknown its last write.
AFTER_APPOINTMENT = timedelta(days=7)
WITHOUT_TIME = timedelta(days=30)


def memory_key(calendar_id: str, event_id: str) -> str:
    return f"google_calendar:event:{calendar_id}:{event_id}"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def memory_expiry(appointment: Appointment, now: datetime) -> datetime:
    """When the memory of `appointment` stops being needed (see the module docstring)."""
    moment = appointment.ends_at or appointment.starts_at
    if moment is None:
        return now + WITHOUT_TIME
    return max(moment, now) + AFTER_APPOINTMENT


class AppointmentMemory:
    def __init__(self, state: ChannelStateStore, calendar_id: str, now: datetime) -> None:
        self._state = state
        self._calendar_id = calendar_id
        self._now = now

    def recall(self, event_id: str) -> dict[str, Any] | None:
        """What we remembered, or None (never seen, or past its `expire_at`)."""
        return expiry.live(self._state.get(memory_key(self._calendar_id, event_id)), self._now)

    def kind(self, appointment: Appointment, seen: dict[str, Any] | None) -> Kind:
        """Created when first seen (or seen before only in this very version as created)."""
        if seen is None:
            return "created"
        kind = seen.get("kind")
        if seen.get("version") == appointment.version and kind in _LIVE_KINDS:
            return "created" if kind == "created" else "updated"
        return "updated"

    def remember(self, appointment: Appointment, kind: Kind, seen: dict[str, Any] | None) -> None:
        value = {
            "version": appointment.version,
            "kind": kind,
            "contact_ref": appointment.contact_ref,
            "summary": appointment.summary,
            "starts_at": _iso(appointment.starts_at),
            "ends_at": _iso(appointment.ends_at),
            "location": appointment.location,
        }
        value = expiry.stamped(value, memory_expiry(appointment, self._now))
        if value != seen:
            self._state.put(memory_key(self._calendar_id, appointment.event_id), value)

    @staticmethod
    def fill(appointment: Appointment, seen: dict[str, Any] | None) -> Appointment:
        """A cancelled appointment with what the deleted item no longer carries."""
        if not seen:
            return appointment

        def text(name: str) -> str | None:
            value = seen.get(name)
            return value if isinstance(value, str) and value else None

        return dataclasses.replace(
            appointment,
            contact_ref=appointment.contact_ref or text("contact_ref"),
            summary=appointment.summary or text("summary"),
            starts_at=appointment.starts_at or parse_rfc3339(seen.get("starts_at")),
            ends_at=appointment.ends_at or parse_rfc3339(seen.get("ends_at")),
            location=appointment.location or text("location"),
        )
