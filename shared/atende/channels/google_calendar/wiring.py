"""How the composition root builds this channel's webhook connector, calendar sync and
scheduled job. No `provider_api` and no `TEXT_LIMIT`: a calendar sends nobody a message;
an appointment's notice goes out on the contact's own channel."""

from __future__ import annotations

from collections.abc import Callable

from atende.channels.base import ChannelDeps, JobReport
from atende.channels.google_calendar.api import CalendarApi
from atende.channels.google_calendar.connector import GoogleCalendarConnector
from atende.channels.google_calendar.settings import CHANNEL_SECRET, GoogleCalendarSettings
from atende.channels.google_calendar.sync import GoogleCalendarSync
from atende.channels.google_calendar.watch import JOB_NAME, WatchRenewer
from atende.channels.google_calendar.writer import CalendarWriter
from atende.ports import QueueName

#: The secrets each of this channel's functions reads ("webhook", "send" for
#: send_outbound, "process" for process_inbound, or a job's name): Terraform grants
#: exactly these, and a test checks it.
SECRETS: dict[str, tuple[str, ...]] = {"webhook": (CHANNEL_SECRET,), JOB_NAME: (CHANNEL_SECRET,)}
#: The queues each of this channel's jobs enqueues to: each calendar gets a scheduled sync
#: task, in case a push notice was lost.
QUEUES: dict[str, frozenset[QueueName]] = {JOB_NAME: frozenset({"inbound"})}


def _api(deps: ChannelDeps, settings: GoogleCalendarSettings) -> CalendarApi:
    return CalendarApi(settings.api_base_url, deps.settings.http_timeout_seconds)


def connector(deps: ChannelDeps) -> GoogleCalendarConnector:
    return GoogleCalendarConnector(deps.secrets, GoogleCalendarSettings().calendars, deps.clock)


def calendar_sync(deps: ChannelDeps) -> GoogleCalendarSync:
    return GoogleCalendarSync(_api(deps, GoogleCalendarSettings()), deps.state, deps.clock)


def jobs(deps: ChannelDeps) -> dict[str, Callable[[], JobReport]]:
    settings = GoogleCalendarSettings()
    renewer = WatchRenewer(
        _api(deps, settings), settings, deps.secrets, deps.state, deps.tasks, deps.clock
    )
    return {JOB_NAME: renewer}


def writer(deps: ChannelDeps) -> CalendarWriter:
    """For code that books appointments for contacts (a CRM integration, a flow step)."""
    return CalendarWriter(_api(deps, GoogleCalendarSettings()))
