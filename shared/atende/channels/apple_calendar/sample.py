"""Appointments for `atende simulate apple_calendar` and the tests: iCalendar objects as a
CalDAV client writes them, PUT into the local calendar server, then the poll job called the
way Cloud Scheduler calls it.

`simulate` only ever writes to a calendar on this machine (the dev stack's Radicale): a
developer whose `.env` names a real iCloud calendar must not find test appointments in it.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import requests
from icalendar import Calendar, Event

from atende.adapters.cloud_tasks import TASK_TOKEN_HEADER
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.apple_calendar.client import Credentials
from atende.channels.apple_calendar.ical import CONTACT_PROPERTY
from atende.channels.apple_calendar.settings import APP_PASSWORD, POLL_JOB, AppleCalendarSettings
from atende.config import TASK_SHARED_SECRET
from atende.errors import ConfigurationError

PRODID = "-//Atende//simulate apple_calendar//EN"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_TIMEOUT = 30.0


def event_ics(
    uid: str,
    summary: str,
    starts_at: datetime,
    *,
    ends_at: datetime | None = None,
    contact_ref: str | None = None,
    location: str | None = None,
    status: str | None = None,
    sequence: int = 0,
) -> str:
    """One VEVENT in a VCALENDAR (RFC 5545), with X-ATENDE-CONTACT when a contact is named."""
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    event = Event()
    event.add("UID", uid)
    event.add("DTSTAMP", datetime.now(UTC).replace(microsecond=0))
    event.add("DTSTART", starts_at)
    event.add("DTEND", ends_at or starts_at + timedelta(hours=1))
    event.add("SUMMARY", summary)
    event.add("SEQUENCE", sequence)
    if location is not None:
        event.add("LOCATION", location)
    if status is not None:
        event.add("STATUS", status)
    if contact_ref is not None:
        event.add(CONTACT_PROPERTY, contact_ref)
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data.decode("utf-8")


def put_event(
    calendar_url: str, uid: str, ics: str, credentials: Credentials, *, create: bool = True
) -> str | None:
    """PUT the object at `<calendar>/<uid>.ics` (RFC 4791 §5.3.2); the server's new etag."""
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    if create:
        headers["If-None-Match"] = "*"  # never overwrite an existing appointment
    response = requests.put(
        urljoin(calendar_url, f"{uid}.ics"),
        data=ics.encode("utf-8"),
        headers=headers,
        auth=(credentials.username, credentials.password),
        timeout=_TIMEOUT,
    )
    response.raise_for_status()
    return response.headers.get("ETag")


def delete_event(calendar_url: str, uid: str, credentials: Credentials) -> None:
    response = requests.delete(
        urljoin(calendar_url, f"{uid}.ics"),
        auth=(credentials.username, credentials.password),
        timeout=_TIMEOUT,
    )
    response.raise_for_status()


def call_poll_job(functions_base_url: str, task_secret: str) -> requests.Response:
    """POST the job like the local task queue would (the shared task header)."""
    return requests.post(
        f"{functions_base_url.rstrip('/')}/{POLL_JOB}",
        headers={TASK_TOKEN_HEADER: task_secret},
        timeout=_TIMEOUT,
    )


def _local_calendar(settings: AppleCalendarSettings) -> str:
    for url in settings.calendars:
        if urlsplit(url).hostname in _LOOPBACK:
            return url
    raise ConfigurationError(
        "no local calendar in ATENDE_APPLE_CALENDAR_CALENDARS (simulate writes only to the "
        "dev stack's calendar server on 127.0.0.1)"
    )


def simulate(text: str, contact: str) -> int:
    """`atende simulate apple_calendar`: an appointment for tomorrow for the WhatsApp contact
    `contact` (who must already be talking to the demo tenant to get the notice), then one
    poll. 0 when the job accepted the call."""
    secrets = EnvSecretSource()
    settings = AppleCalendarSettings()
    calendar_url = _local_calendar(settings)
    password = secrets.get(APP_PASSWORD)
    task_secret = secrets.get(TASK_SHARED_SECRET)
    if not password or not settings.username:
        raise ConfigurationError(f"ATENDE_APPLE_CALENDAR_USERNAME and {APP_PASSWORD} must be set")
    if not task_secret:
        raise ConfigurationError(f"{TASK_SHARED_SECRET} is not set")
    credentials = Credentials(settings.username, password)
    uid = f"{uuid.uuid4()}@atende.simulate"
    starts_at = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    ics = event_ics(uid, text, starts_at, contact_ref=f"whatsapp:{contact}")
    put_event(calendar_url, uid, ics, credentials)
    base = os.environ.get("ATENDE_FUNCTIONS_BASE_URL", "http://127.0.0.1:8080")
    response = call_poll_job(base, task_secret)
    return 0 if response.status_code == requests.codes.ok else 1
