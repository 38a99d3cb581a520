"""The LinkedIn webhook connector: the challenge and X-LI-Signature, organization social
action parsing, and the tenant from the organization URN through configuration only."""

from __future__ import annotations

import json
from collections.abc import Mapping

from atende.channels.base import ACCEPTED
from atende.channels.linkedin.parse import CHANNEL, parse_delivery
from atende.channels.linkedin.settings import CLIENT_SECRET
from atende.channels.linkedin.verify import SIGNATURE_HEADER, answer_challenge, verify_signature
from atende.domain.events import InboundEvent
from atende.ports import SecretSource, WebhookResponse


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name, whatever case the mapping keeps."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


class LinkedInConnector:
    channel = CHANNEL

    def __init__(self, secrets: SecretSource, tenants: Mapping[str, str]) -> None:
        self._secrets = secrets
        self._tenants = dict(tenants)

    def handshake(self, query: Mapping[str, str]) -> WebhookResponse:
        answer = answer_challenge(query, self._secrets.get(CLIENT_SECRET))
        return WebhookResponse(200, json.dumps(answer), "application/json")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_signature(body, header(headers, SIGNATURE_HEADER), self._secrets.get(CLIENT_SECRET))

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return parse_delivery(body)

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        # LinkedIn only needs a 2xx.
        return ACCEPTED

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
