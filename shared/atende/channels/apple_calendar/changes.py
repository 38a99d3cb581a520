"""From what the server listed to calendar events, against what we remembered (pure).

- A member we did not know → `CalendarEventCreated`; a known one with a new etag →
  `CalendarEventUpdated`; STATUS:CANCELLED → `CalendarEventCancelled` (once: a cancelled
  appointment edited again, or then deleted, is not announced a second time).
- A removed member (404), or after a full listing a known member that is no longer listed
  → `CalendarEventCancelled`, described from the remembered map.
- Only appointments still ahead produce events: a change to one that already began (or
  ended) is remembered but announced to nobody. A notice about the past helps no one, and
  tidying old events out of a calendar must not message every past client. This also keeps
  a full resync (first poll, or an expired token) from announcing history.
- A member that is not an appointment (a VTODO, unreadable data) → `UnsupportedEvent`,
  raw kept, never a crash or a silent drop.

Ids: `event_id` = UID:etag (each version of an appointment is processed once); a deletion is
href:deleted:<last etag> (the etag keeps a later re-creation and deletion of the same href
distinct for the dedupe records).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from atende.channels.apple_calendar.dav_xml import Member
from atende.channels.apple_calendar.ical import Appointment, NotAnAppointment, parse_appointment
from atende.channels.apple_calendar.settings import CHANNEL
from atende.channels.apple_calendar.state import Known
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    InboundEvent,
    UnsupportedEvent,
)

#: iCalendar data kept in an event's `raw` is cut here: a task body must stay small (Cloud
#: Tasks allows 1 MB) and an appointment's text is far below this.
MAX_RAW_CALENDAR_DATA = 64 * 1024

_CalendarEventType = type[CalendarEventCreated | CalendarEventUpdated | CalendarEventCancelled]
_COUNTS: dict[_CalendarEventType, str] = {
    CalendarEventCreated: "created",
    CalendarEventUpdated: "updated",
    CalendarEventCancelled: "cancelled",
}


@dataclass(frozen=True)
class Listing:
    """What one sync returned (all pages together)."""

    #: Members reported present, each once (the last report wins), with data when fetched.
    members: tuple[Member, ...] = ()
    #: Keys and raw hrefs of members reported removed (404).
    removed: tuple[tuple[str, str], ...] = ()
    #: Every present member is listed (a full sync that was not cut short): a known member
    #: missing from it was removed while our token was invalid.
    complete: bool = False


@dataclass
class Outcome:
    events: list[InboundEvent] = field(default_factory=list)
    members: dict[str, Known] = field(default_factory=dict)
    #: PII-free counts for the job report.
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1


def strip_etag(etag: str) -> str:
    """The opaque part of an entity tag, for ids: `"abc"` → `abc` (W/ is kept)."""
    weak = etag.startswith("W/")
    core = etag[2:] if weak else etag
    core = core[1:-1] if len(core) >= 2 and core[0] == core[-1] == '"' else core
    return ("W/" if weak else "") + core


def _raw_member(member: Member) -> dict[str, Any]:
    data = member.calendar_data or ""
    raw: dict[str, Any] = {"href": member.href, "etag": member.etag}
    if len(data) > MAX_RAW_CALENDAR_DATA:
        raw["calendar_data"] = data[:MAX_RAW_CALENDAR_DATA]
        raw["calendar_data_truncated"] = True
    else:
        raw["calendar_data"] = data
    return raw


def _known(appointment: Appointment, etag: str) -> Known:
    return Known(
        etag=etag,
        uid=appointment.uid,
        summary=appointment.summary,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        location=appointment.location,
        contact_ref=appointment.contact_ref,
        cancelled=appointment.cancelled,
        repeats=appointment.repeats,
        repeats_until=appointment.repeats_until,
    )


class _Diff:
    def __init__(self, calendar_url: str, now: datetime, floating_zone: tzinfo) -> None:
        self.calendar_url = calendar_url
        self.now = now
        self.floating_zone = floating_zone

    def _event(
        self,
        kind: _CalendarEventType,
        event_id: str,
        known: Known,
        occurred_at: datetime,
        raw: dict[str, Any],
    ) -> InboundEvent:
        return kind(
            channel=CHANNEL,
            event_id=event_id,
            account_id=self.calendar_url,
            occurred_at=occurred_at,
            raw=raw,
            calendar_id=self.calendar_url,
            calendar_event_id=known.uid or "",
            summary=known.summary,
            starts_at=known.starts_at,
            ends_at=known.ends_at,
            location=known.location,
            contact_ref=known.contact_ref,
        )

    def present(self, member: Member, before: Known | None, outcome: Outcome) -> None:
        etag = member.etag
        if etag is None or member.calendar_data is None:
            # Nothing to compare or read (a server that gave neither): keep what we knew;
            # a later change to it is reported again.
            outcome.count("unreadable")
            if before is not None:
                outcome.members[member.key] = before
            return
        if before is not None and before.etag == etag:
            outcome.members[member.key] = before
            return
        try:
            appointment = parse_appointment(member.calendar_data, self.floating_zone)
        except NotAnAppointment as error:
            outcome.members[member.key] = Known(etag=etag)
            outcome.count("unsupported")
            outcome.events.append(
                UnsupportedEvent(
                    channel=CHANNEL,
                    event_id=f"{member.key}:{strip_etag(etag)}",
                    account_id=self.calendar_url,
                    occurred_at=self.now,
                    raw=_raw_member(member),
                    reason=error.reason,
                )
            )
            return
        after = _known(appointment, etag)
        outcome.members[member.key] = after
        if before is not None and before.cancelled and after.cancelled:
            outcome.count("already_cancelled")
            return
        if not (after.upcoming(self.now) or (before is not None and before.upcoming(self.now))):
            outcome.count("past")
            return
        kind: _CalendarEventType
        if after.cancelled:
            kind = CalendarEventCancelled
        elif before is None or before.uid is None:
            kind = CalendarEventCreated
        else:
            kind = CalendarEventUpdated
        outcome.count(_COUNTS[kind])
        outcome.events.append(
            self._event(
                kind,
                f"{appointment.uid}:{strip_etag(etag)}",
                after,
                appointment.modified_at or self.now,
                _raw_member(member),
            )
        )

    def removed(self, key: str, href: str, before: Known | None, outcome: Outcome) -> None:
        outcome.members.pop(key, None)
        if before is None or before.uid is None:
            return  # never an appointment we knew: nothing to say about it
        if before.cancelled:
            outcome.count("already_cancelled")
            return
        if not before.upcoming(self.now):
            outcome.count("past")
            return
        outcome.count("cancelled")
        outcome.events.append(
            self._event(
                CalendarEventCancelled,
                f"{key}:deleted:{strip_etag(before.etag)}",
                before,
                self.now,
                {"href": href, "status": 404, "etag": before.etag},
            )
        )


def diff(
    calendar_url: str,
    known: Mapping[str, Known],
    listing: Listing,
    now: datetime,
    floating_zone: tzinfo,
) -> Outcome:
    """The events a listing means, and the map to remember after them."""
    outcome = Outcome()
    step = _Diff(calendar_url, now, floating_zone)
    listed = {member.key for member in listing.members}
    if not listing.complete:
        outcome.members.update(known)
    for member in listing.members:
        step.present(member, known.get(member.key), outcome)
    for key, href in listing.removed:
        if key not in listed:
            step.removed(key, href, known.get(key), outcome)
    if listing.complete:
        gone = [key for key in known if key not in listed]
        for key in gone:
            step.removed(key, key, known[key], outcome)
    outcome.members = _worth_keeping(outcome.members, now)
    outcome.events.sort(key=lambda event: event.occurred_at)
    return outcome


def _worth_keeping(members: Mapping[str, Known], now: datetime) -> dict[str, Known]:
    """Appointments still ahead (and non-event members' etags); a past one can no longer
    produce a notice, so forgetting it only bounds the stored map."""
    return {
        key: known for key, known in members.items() if known.uid is None or known.upcoming(now)
    }


def missing_data(members: Sequence[Member], known: Mapping[str, Known]) -> list[Member]:
    """Members whose data we still need: new or changed, and listed without it."""
    return [
        member
        for member in members
        if member.calendar_data is None
        and (
            member.etag is None or member.key not in known or known[member.key].etag != member.etag
        )
    ]
