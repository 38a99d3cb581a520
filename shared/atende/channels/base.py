"""What a channel connector offers the webhook edge. One package per channel implements it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from atende.config import Settings
from atende.domain.events import InboundEvent
from atende.ports import ProviderApi, SecretSource


class WebhookConnector(Protocol):
    channel: str

    def handshake(self, query: Mapping[str, str]) -> str:
        """Answer the provider's subscription check (GET); raise SignatureError if refused."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Pure check of the raw body's signature; raise SignatureError or ConfigurationError."""
        ...

    def parse(self, body: bytes) -> list[InboundEvent]:
        """Typed events of a verified body; raise MalformedPayloadError if it is not one."""
        ...

    def tenant_for(self, event: InboundEvent) -> str | None:
        """The tenant an event belongs to, from configuration only; None if unknown."""
        ...


@dataclass(frozen=True)
class ChannelDeps:
    """What a channel's `wiring` module may use to build its connector and provider API."""

    settings: Settings
    secrets: SecretSource


class ChannelWiring(Protocol):
    """`atende.channels.<channel>.wiring`: found by name, so adding a channel changes no
    other module."""

    def connector(self, deps: ChannelDeps) -> WebhookConnector: ...

    def provider_api(self, deps: ChannelDeps) -> ProviderApi: ...
