"""The TikTok webhook connector: TikTok-Signature with replay protection, event parsing, and
the tenant from the client key through configuration only."""

from __future__ import annotations

from collections.abc import Mapping

from atende.channels.base import ACCEPTED
from atende.channels.tiktok.parse import CHANNEL, parse_delivery
from atende.channels.tiktok.settings import CLIENT_SECRET
from atende.channels.tiktok.verify import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    verify_signature,
)
from atende.domain.events import InboundEvent
from atende.errors import SignatureError
from atende.ports import Clock, SecretSource, WebhookResponse


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name, whatever case the mapping keeps."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


class TikTokConnector:
    channel = CHANNEL

    def __init__(
        self,
        secrets: SecretSource,
        tenants: Mapping[str, str],
        clock: Clock,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        self._secrets = secrets
        self._tenants = dict(tenants)
        self._clock = clock
        self._tolerance = tolerance_seconds

    def handshake(self, query: Mapping[str, str]) -> str:
        # TikTok registers the callback URL in its portal and never calls it with GET.
        raise SignatureError("TikTok sends no subscription check")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_signature(
            body,
            header(headers, SIGNATURE_HEADER),
            self._secrets.get(CLIENT_SECRET),
            self._clock.now(),
            self._tolerance,
        )

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return parse_delivery(body)

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        return ACCEPTED

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
