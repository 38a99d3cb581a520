"""How the composition root builds this channel's calendar sync and poll job.

No `connector`: iCloud calls no webhook. No `provider_api` or `TEXT_LIMIT`: a calendar
change is announced on the contact's own messaging channel, by the core.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import requests

from atende.channels.apple_calendar.client import CalDavClient
from atende.channels.apple_calendar.job import POLL_JOB, poll_calendars
from atende.channels.apple_calendar.settings import APP_PASSWORD, AppleCalendarSettings
from atende.channels.apple_calendar.sync import AppleCalendarSync, credentials_from, zone
from atende.channels.base import ChannelDeps, JobReport
from atende.ports import QueueName

#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {POLL_JOB: (APP_PASSWORD,)}
#: The queues each of this channel's jobs enqueues to: a changed calendar becomes a sync
#: task for process_inbound.
QUEUES: dict[str, frozenset[QueueName]] = {POLL_JOB: frozenset({"inbound"})}


def calendar_sync(deps: ChannelDeps) -> AppleCalendarSync:
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


def jobs(deps: ChannelDeps) -> dict[str, Callable[[], JobReport]]:
    calendars = AppleCalendarSettings().calendars
    return {
        POLL_JOB: partial(poll_calendars, calendar_sync(deps), deps.tasks, deps.clock, calendars)
    }
