"""Creates and changes appointments in a Google calendar, naming the contact they are for.

The change comes back through the calendar's push channel and sync like any other, so the
contact's notice goes out the same way whoever made the change (a person in Google Calendar
or Atende). There is no `provider_api`: notices go out on the contact's own channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atende.channels.google_calendar.api import CalendarApi, calendar_api
from atende.channels.google_calendar.outbound import event_changes, new_event
from atende.channels.plugin import ChannelDeps
from atende.errors import ProviderTransientError


def _event_id(event: dict[str, Any]) -> str:
    found = event.get("id")
    if not isinstance(found, str) or not found:
        raise ProviderTransientError(
            "Google Calendar answered an event without an id", code="google_bad_body"
        )
    return found


class CalendarWriter:
    def __init__(self, api: CalendarApi) -> None:
        self._api = api

    def create(
        self,
        calendar_id: str,
        *,
        summary: str,
        start: datetime,
        end: datetime,
        contact_ref: str | None = None,
        description: str | None = None,
        location: str | None = None,
        time_zone: str | None = None,
    ) -> dict[str, Any]:
        """events.insert; the created Events resource (its `id` is checked)."""
        body = new_event(
            summary=summary,
            start=start,
            end=end,
            contact_ref=contact_ref,
            description=description,
            location=location,
            time_zone=time_zone,
        )
        created = self._api.insert_event(calendar_id, body)
        _event_id(created)
        return created

    def update(
        self,
        calendar_id: str,
        event_id: str,
        *,
        summary: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        contact_ref: str | None = None,
        description: str | None = None,
        location: str | None = None,
        time_zone: str | None = None,
    ) -> dict[str, Any]:
        """events.patch with only the fields given; the changed Events resource."""
        body = event_changes(
            summary=summary,
            start=start,
            end=end,
            contact_ref=contact_ref,
            description=description,
            location=location,
            time_zone=time_zone,
        )
        changed = self._api.patch_event(calendar_id, event_id, body)
        _event_id(changed)
        return changed


def calendar_writer(deps: ChannelDeps) -> CalendarWriter:
    """A writer on the configured calendar API, for code that books appointments for
    contacts (a CRM integration, a flow step): no part of the plugin, which the core uses."""
    return CalendarWriter(calendar_api(deps))
