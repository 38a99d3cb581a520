"""Realistic Google Calendar push notices, for `atende simulate google_calendar` and tests.

A notice has no body, only headers: `simulated_delivery` returns an empty body with them,
and `signed_headers` ignores the body it is given. The notice names a channel of ours (the
first configured calendar, else the dev one) with its HMAC token, like one the watch job
opened. `simulate` books an appointment in the local Calendar fake and then delivers the
notice, so the change travels the real path: webhook → sync against the fake → notice to
the contact (on WhatsApp; only a contact who already talks to us gets one).
"""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime, timedelta

import requests

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.base import SimulatedDelivery
from atende.channels.google_calendar.api import CalendarApi, uses_google
from atende.channels.google_calendar.channel_ids import channel_id, channel_token
from atende.channels.google_calendar.settings import (
    CHANNEL_SECRET,
    GOOGLE_API_BASE_URL,
    GoogleCalendarSettings,
)
from atende.channels.google_calendar.writer import CalendarWriter
from atende.config import Settings
from atende.errors import ConfigurationError, ProviderTransientError
from atende.ports import SecretSource

DEV_CALENDAR_ID = "agenda@loja.example"
DEV_TENANT = "demo"
#: Google's example resource id ("Push notifications" guide).
DEV_RESOURCE_ID = "ret08u3rv24htgh289g"
WEBHOOK = "google_calendar_webhook"


def dev_calendar(settings: GoogleCalendarSettings | None = None) -> tuple[str, str]:
    """(calendar id, tenant id): the first configured calendar, else the dev one."""
    calendars = (settings or GoogleCalendarSettings()).calendars
    return next(iter(calendars.items()), (DEV_CALENDAR_ID, DEV_TENANT))


def notice_headers(
    secrets: SecretSource,
    *,
    state: str = "exists",
    calendar_id: str | None = None,
    tenant_id: str | None = None,
    message_number: int | None = None,
    generation: int | None = None,
) -> dict[str, str]:
    """The headers Google sends for a notice on our channel of that calendar."""
    secret = secrets.get(CHANNEL_SECRET)
    if not secret:
        raise ConfigurationError(f"{CHANNEL_SECRET} is not set")
    if calendar_id is None or tenant_id is None:
        calendar_id, tenant_id = dev_calendar()
    now = time.time()
    channel = channel_id(tenant_id, calendar_id, generation if generation is not None else int(now))
    number = 1 if state == "sync" else message_number or int(now * 1000)
    expiration = datetime.fromtimestamp(now, UTC) + timedelta(days=7)
    # As Google's "Push notifications" guide shows them; the notice has no body.
    return {
        "Content-Type": "application/json; utf-8",
        "X-Goog-Channel-ID": channel,
        "X-Goog-Channel-Token": channel_token(secret, channel),
        "X-Goog-Channel-Expiration": email.utils.format_datetime(expiration, usegmt=True),
        "X-Goog-Resource-ID": DEV_RESOURCE_ID,
        "X-Goog-Resource-URI": f"{GOOGLE_API_BASE_URL}/calendars/{calendar_id}/events",
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": str(number),
    }


def deliver(webhook_url: str, headers: dict[str, str]) -> int:
    """POST a notice (empty body) like Google does; the webhook's HTTP status."""
    with requests.Session() as session:
        session.trust_env = False  # the local stack: never through a proxy
        return session.post(webhook_url, data=b"", headers=headers, timeout=30).status_code


def signed_headers(body: bytes, secrets: SecretSource) -> dict[str, str]:
    """A change notice's headers (`simulate --payload`: a notice has no body to sign)."""
    return notice_headers(secrets)


def simulated_delivery(text: str, contact: str, secrets: SecretSource) -> SimulatedDelivery:
    """A change notice: an empty body with its headers (the text and contact cannot travel
    in a notice; `simulate` puts them in an appointment first)."""
    return SimulatedDelivery(body=b"", headers=notice_headers(secrets))


def simulate(text: str, contact: str) -> int:
    """Book an appointment tomorrow for `whatsapp:<contact>` (summary = text) in the local
    Calendar fake, then deliver the change notice to the webhook; 0 when it was accepted."""
    settings = GoogleCalendarSettings()
    if uses_google(settings.api_base_url):
        raise ConfigurationError(
            "simulate books appointments in the local Calendar fake only: set "
            "ATENDE_GOOGLE_CALENDAR_API_BASE_URL to it"
        )
    calendar_id, tenant_id = dev_calendar(settings)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    writer = CalendarWriter(CalendarApi(settings.api_base_url, timeout_seconds=30))
    try:
        writer.create(
            calendar_id,
            summary=text,
            start=start,
            end=start + timedelta(hours=1),
            contact_ref=f"whatsapp:{contact}",
        )
    except ProviderTransientError as error:
        raise requests.ConnectionError(f"Google Calendar fake: {error}") from error
    headers = notice_headers(EnvSecretSource(), calendar_id=calendar_id, tenant_id=tenant_id)
    status = deliver(f"{Settings().functions_base_url.rstrip('/')}/{WEBHOOK}", headers)
    return 0 if 200 <= status < 300 else 1
