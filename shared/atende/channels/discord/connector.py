"""The Discord webhook connector: Ed25519 signature and timestamp, interaction and Webhook
Events parsing, the deferred answer, and the tenant from the application id through
configuration only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from atende.channels.discord.parse import CHANNEL, decode, parse_delivery
from atende.channels.discord.response import acknowledgement
from atende.channels.discord.settings import PUBLIC_KEY
from atende.channels.discord.verify import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_request,
)
from atende.domain.events import InboundEvent, MessageReceived
from atende.ports import Clock, SecretSource, WebhookResponse

#: Discord has no GET subscription check: both URLs are verified with signed POST PINGs.
NO_HANDSHAKE = WebhookResponse(405, "method not allowed")


class DiscordConnector:
    channel = CHANNEL

    def __init__(
        self,
        secrets: SecretSource,
        tenants: Mapping[str, str],
        clock: Clock,
        tolerance: timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        self._secrets = secrets
        self._tenants = dict(tenants)
        self._clock = clock
        self._tolerance = tolerance

    def handshake(self, query: Mapping[str, str]) -> WebhookResponse:
        return NO_HANDSHAKE

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_request(
            body,
            headers.get(SIGNATURE_HEADER),
            headers.get(TIMESTAMP_HEADER),
            self._secrets.get(PUBLIC_KEY),
            self._clock.now(),
            self._tolerance,
        )

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return parse_delivery(body)

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        # Defer only when the conversation will answer: a message of a configured application.
        answered = any(
            isinstance(event, MessageReceived) and self.tenant_for(event) is not None
            for event in events
        )
        return acknowledgement(decode(body), answered)

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
