"""The Google Calendar webhook connector: push notices verified by our channel token, one
sync request per change notice, the tenant from the calendar through configuration only."""

from __future__ import annotations

from collections.abc import Mapping

from atende.channels.google_calendar.channel_ids import CalendarIndex
from atende.channels.google_calendar.parse import CHANNEL, parse_notification
from atende.channels.google_calendar.settings import CHANNEL_SECRET
from atende.channels.google_calendar.verify import verify_notification
from atende.domain.events import InboundEvent
from atende.errors import SignatureError
from atende.ports import Clock, SecretSource, WebhookResponse

#: Google counts 200, 201, 202, 204 and 102 as delivered; it expects no body.
DELIVERED = WebhookResponse(200, "")


class GoogleCalendarConnector:
    channel = CHANNEL

    def __init__(self, secrets: SecretSource, calendars: Mapping[str, str], clock: Clock) -> None:
        self._secrets = secrets
        self._tenants = dict(calendars)
        self._index = CalendarIndex(calendars)
        self._clock = clock

    def handshake(self, query: Mapping[str, str]) -> str:
        # Google opens a channel with a `sync` notice (a POST), never a GET.
        raise SignatureError("Google Calendar has no GET handshake")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_notification(headers, self._secrets.get(CHANNEL_SECRET), self._index)

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        # The notice has no body: everything is in its headers.
        return parse_notification(headers, self._index, self._clock.now())

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        return DELIVERED

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
