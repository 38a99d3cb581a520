"""Google Calendar's `CalendarSync`: what changed since the stored sync token.

Following Google's "Synchronize resources efficiently": events.list with the stored
`syncToken`, every `nextPageToken` page, and the `nextSyncToken` of the last page as the
cursor, which `advance` stores only once the changes are enqueued (so a crash in between
fetches them again). A 410 means the token is no longer valid: a full sync (no sync token)
replaces it. The first sync of a calendar is a full sync too.

Only appointments that have not started yet produce events, in every sync: a full sync
lists the whole calendar, and announcing past appointments (or edits to them, such as notes
added afterwards) would only confuse the people they were for. A full sync asks Google for
events ending after now (`timeMin`) and skips the ones that already started; it includes no
cancellations (Google lists deleted events only in incremental syncs).

A change is `CalendarEventCancelled` when the event's status is `cancelled`, else
`CalendarEventCreated` the first time we see the appointment (for one that names no
contact: when it is the version Google made at creation) and `CalendarEventUpdated` after
that; see `memory` for what is remembered and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from atende.channels.google_calendar._items import (
    EPOCH,
    Appointment,
    Kind,
    calendar_event,
    malformed,
    read_item,
)
from atende.channels.google_calendar.api import PAGE_SIZE, CalendarApi
from atende.channels.google_calendar.channel_ids import calendar_ref
from atende.channels.google_calendar.errors import SyncTokenGoneError
from atende.channels.google_calendar.memory import AppointmentMemory
from atende.errors import ProviderTransientError
from atende.ports import CalendarChanges, ChannelStateStore, Clock

logger = logging.getLogger(__name__)

#: A bound on one sync's pages (with 250 events a page: half a million changes).
MAX_PAGES = 2000


def sync_key(calendar_id: str) -> str:
    return f"google_calendar:sync:{calendar_id}"


def rfc3339(moment: datetime) -> str:
    """Whole seconds in UTC ("2026-11-25T15:00:00Z"), as Google's examples write them."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class GoogleCalendarSync:
    def __init__(
        self,
        api: CalendarApi,
        state: Callable[[], ChannelStateStore],
        clock: Clock,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._api = api
        self._state = state
        self._clock = clock
        self._page_size = page_size

    def changes(self, tenant_id: str, calendar_id: str) -> CalendarChanges:
        store = self._state()
        now = self._clock.now()
        stored = store.get(sync_key(calendar_id)) or {}
        token = stored.get("sync_token")
        full = not isinstance(token, str) or not token
        items: list[Any] = []
        zone: str | None = None
        next_token: str | None = None
        if not full:
            try:
                items, zone, next_token = self._fetch(calendar_id, sync_token=token)
            except SyncTokenGoneError:
                fields = {"calendar": calendar_ref(calendar_id), "outcome": "full_sync_required"}
                logger.info("sync token no longer valid; full sync", extra={"json_fields": fields})
                full = True
        if full:
            items, zone, next_token = self._fetch(calendar_id, time_min=rfc3339(now))
        memory = AppointmentMemory(store, calendar_id, now)
        events = self._events(items, zone, calendar_id, full, now, memory)
        summary = {
            "calendar": calendar_ref(calendar_id),
            "full_sync": full,
            "items": len(items),
            "changes": len(events),
        }
        logger.info("calendar changes fetched", extra={"json_fields": summary})
        cursor = {"sync_token": next_token} if next_token else {}
        return CalendarChanges(events=tuple(events), cursor=cursor)

    def advance(self, calendar_id: str, cursor: dict[str, Any]) -> None:
        token = cursor.get("sync_token")
        if isinstance(token, str) and token:
            value = {"sync_token": token, "synced_at": rfc3339(self._clock.now())}
            self._state().put(sync_key(calendar_id), value)

    def _fetch(
        self, calendar_id: str, *, sync_token: str | None = None, time_min: str | None = None
    ) -> tuple[list[Any], str | None, str | None]:
        """Every page: (items, the calendar's time zone, the next sync token)."""
        items: list[Any] = []
        zone: str | None = None
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            try:
                page = self._api.list_events(
                    calendar_id,
                    sync_token=sync_token,
                    page_token=page_token,
                    time_min=time_min,
                    page_size=self._page_size,
                )
            except SyncTokenGoneError:
                if sync_token is not None:
                    raise
                # A full sync has no token to lose: a 410 there is Google's hiccup.
                raise ProviderTransientError(
                    "Google Calendar answered 410 to a full sync", code="google_410"
                ) from None
            page_items = page.get("items")
            if isinstance(page_items, list):
                items.extend(page_items)
            if isinstance(page.get("timeZone"), str):
                zone = page["timeZone"]
            following = page.get("nextPageToken")
            if not isinstance(following, str) or not following:
                next_sync = page.get("nextSyncToken")
                return items, zone, next_sync if isinstance(next_sync, str) else None
            page_token = following
        raise ProviderTransientError("too many pages in one sync", code="google_too_many_pages")

    def _events(
        self,
        items: list[Any],
        zone: str | None,
        calendar_id: str,
        full: bool,
        now: datetime,
        memory: AppointmentMemory,
    ) -> list[Any]:
        """Oldest change first; items without an id last, as unsupported events."""
        appointments: list[Appointment] = []
        unreadable: list[Any] = []
        for item in items:
            appointment = read_item(item, zone)
            if appointment is None:
                unreadable.append(malformed(item, calendar_id))
            elif not (full and appointment.cancelled):
                appointments.append(appointment)
        # A deleted item may carry no `updated`: most likely the latest change, so last.
        appointments.sort(key=lambda a: (a.updated is None, a.updated or EPOCH))
        changes: list[Any] = []
        for appointment in appointments:
            found, kind = _classified(appointment, memory, now, full)
            if kind is not None:
                changes.append(calendar_event(found, calendar_id, kind, now))
        return changes + unreadable


def _upcoming(appointment: Appointment, now: datetime, full: bool) -> bool:
    """Not started yet; an unknown start counts only in an incremental sync (a deleted
    event we never saw may carry none)."""
    if appointment.starts_at is None:
        return not full
    return appointment.starts_at > now


def _classified(
    appointment: Appointment, memory: AppointmentMemory, now: datetime, full: bool
) -> tuple[Appointment, Kind | None]:
    """The appointment (filled from memory when deleted) and its kind; None: skipped."""
    if appointment.cancelled:
        needs_memory = appointment.contact_ref is None or appointment.starts_at is None
        seen = memory.recall(appointment.event_id) if needs_memory else None
        filled = memory.fill(appointment, seen)
        return filled, "cancelled" if _upcoming(filled, now, full) else None
    if not _upcoming(appointment, now, full):
        return appointment, None
    if appointment.contact_ref is None:
        # Nobody to tell, nothing remembered: the kind only tells Google's creation apart.
        return appointment, "created" if appointment.made_at_creation else "updated"
    seen = memory.recall(appointment.event_id)
    kind = memory.kind(appointment, seen)
    memory.remember(appointment, kind, seen)
    return appointment, kind
