"""The webhook connector both Meta messaging products use: Meta's handshake and signature,
the product's parser, and the tenant from the page or Instagram account id through
configuration only."""

from __future__ import annotations

from collections.abc import Mapping

from atende.channels.base import ACCEPTED
from atende.channels.graph.signature import verify_handshake, verify_signature
from atende.channels.meta.parse import Product, parse_delivery
from atende.domain.events import InboundEvent
from atende.ports import SecretSource, WebhookResponse


class MetaConnector:
    def __init__(
        self,
        product: Product,
        label: str,
        secrets: SecretSource,
        tenants: Mapping[str, str],
        *,
        app_secret: str,
        verify_token: str,
    ) -> None:
        self.channel = product.channel
        self._product = product
        self._label = label
        self._secrets = secrets
        self._tenants = dict(tenants)
        self._app_secret = app_secret
        self._verify_token = verify_token

    def handshake(self, query: Mapping[str, str]) -> str:
        token = self._secrets.get(self._verify_token)
        return verify_handshake(query, token, product=self._label)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        secret = self._secrets.get(self._app_secret)
        verify_signature(body, headers, secret, product=self._label)

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return parse_delivery(body, self._product)

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        return ACCEPTED

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
