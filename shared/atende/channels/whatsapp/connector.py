"""The WhatsApp webhook connector: Meta's handshake and signature, Cloud API parsing, and
the tenant from the phone number id through configuration only."""

from __future__ import annotations

from collections.abc import Mapping

from atende.channels.base import ACCEPTED
from atende.channels.graph.signature import verify_handshake, verify_signature
from atende.channels.whatsapp.parse import parse_delivery
from atende.channels.whatsapp.settings import APP_SECRET, VERIFY_TOKEN
from atende.domain.events import InboundEvent
from atende.ports import SecretSource, WebhookResponse

CHANNEL = "whatsapp"


class WhatsAppConnector:
    channel = CHANNEL

    def __init__(self, secrets: SecretSource, tenants: Mapping[str, str]) -> None:
        self._secrets = secrets
        self._tenants = dict(tenants)

    def handshake(self, query: Mapping[str, str]) -> str:
        return verify_handshake(query, self._secrets.get(VERIFY_TOKEN), product="WhatsApp")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_signature(body, headers, self._secrets.get(APP_SECRET), product="WhatsApp")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return parse_delivery(body)

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        return ACCEPTED

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
