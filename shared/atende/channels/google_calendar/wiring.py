"""Google Calendar's plugin: a webhook (push notices), the calendar sync, and the job that
keeps a push channel open per calendar.

No provider API and no text limit: a calendar sends nobody a message; an appointment's
notice goes out on the contact's own channel. The factories import the channel's code when
called (see channels/plugin.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atende.channels.google_calendar.settings import (
    CHANNEL_SECRET,
    JOB_NAME,
    GoogleCalendarSettings,
)
from atende.channels.plugin import ChannelDeps, ChannelPlugin, ScheduledJob

if TYPE_CHECKING:
    from atende.channels.google_calendar.connector import GoogleCalendarConnector
    from atende.channels.google_calendar.sync import GoogleCalendarSync
    from atende.channels.google_calendar.watch import WatchRenewer


def _connector(deps: ChannelDeps) -> GoogleCalendarConnector:
    from atende.channels.google_calendar.connector import GoogleCalendarConnector

    return GoogleCalendarConnector(deps.secrets, GoogleCalendarSettings().calendars, deps.clock)


def _calendar_sync(deps: ChannelDeps) -> GoogleCalendarSync:
    from atende.channels.google_calendar.api import calendar_api
    from atende.channels.google_calendar.sync import GoogleCalendarSync

    return GoogleCalendarSync(calendar_api(deps), deps.state, deps.clock)


def _watch(deps: ChannelDeps) -> WatchRenewer:
    from atende.channels.google_calendar.api import calendar_api
    from atende.channels.google_calendar.watch import WatchRenewer

    settings = GoogleCalendarSettings()
    return WatchRenewer(
        calendar_api(deps), settings, deps.secrets, deps.state, deps.tasks, deps.clock
    )


PLUGIN = ChannelPlugin(
    name="google_calendar",
    connector=_connector,
    calendar_sync=_calendar_sync,
    webhook_secrets=frozenset({CHANNEL_SECRET}),
    jobs=(
        # Each calendar also gets a scheduled sync task, in case a push notice was lost.
        ScheduledJob(
            JOB_NAME, _watch, secrets=frozenset({CHANNEL_SECRET}), queues=frozenset({"inbound"})
        ),
    ),
)
