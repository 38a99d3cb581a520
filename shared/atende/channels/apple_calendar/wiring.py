"""Apple Calendar's plugin: the calendar sync and the job that polls iCloud.

No webhook: iCloud calls none. No provider API or text limit: a calendar change is announced
on the contact's own messaging channel, by the core. The factories import the channel's code
when called (see channels/plugin.py).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from atende.channels.apple_calendar.settings import (
    APP_PASSWORD,
    POLL_JOB,
    AppleCalendarSettings,
)
from atende.channels.plugin import ChannelDeps, ChannelPlugin, JobReport, ScheduledJob

if TYPE_CHECKING:
    from collections.abc import Callable

    from atende.channels.apple_calendar.sync import AppleCalendarSync


def _calendar_sync(deps: ChannelDeps) -> AppleCalendarSync:
    import requests

    from atende.channels.apple_calendar.client import CalDavClient
    from atende.channels.apple_calendar.sync import AppleCalendarSync, credentials_from, zone

    settings = AppleCalendarSettings()
    secrets = deps.secrets
    timeout = deps.settings.http_timeout_seconds
    session = requests.Session()

    def client() -> CalDavClient:
        # Read per poll (the source caches it): a rotated password is picked up, and a
        # missing one fails that poll closed before any request.
        credentials = credentials_from(settings.username, secrets.get(APP_PASSWORD))
        return CalDavClient(credentials, timeout, session)

    return AppleCalendarSync(client, deps.state, deps.clock, zone(settings.floating_timezone))


def _poll(deps: ChannelDeps) -> Callable[[], JobReport]:
    from atende.channels.apple_calendar.job import poll_calendars

    calendars = AppleCalendarSettings().calendars
    return partial(poll_calendars, _calendar_sync(deps), deps.tasks, deps.clock, calendars)


PLUGIN = ChannelPlugin(
    name="apple_calendar",
    calendar_sync=_calendar_sync,
    jobs=(
        # A changed calendar becomes a sync task for process_inbound.
        ScheduledJob(
            POLL_JOB, _poll, secrets=frozenset({APP_PASSWORD}), queues=frozenset({"inbound"})
        ),
    ),
)
