"""What a channel connector offers the webhook edge. One package per channel implements it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from atende.config import Settings
from atende.domain.events import InboundEvent
from atende.ports import ChannelStateStore, Clock, SecretSource, TaskQueue


@dataclass(frozen=True)
class WebhookResponse:
    """What the webhook answers the provider."""

    status: int
    body: str = ""
    media_type: str = "text/plain"
    #: Extra headers (WebSub asks for `X-Content-Type-Options: nosniff` on the echo).
    headers: Mapping[str, str] | None = None


#: The answer most providers expect once a delivery is safely enqueued.
ACCEPTED = WebhookResponse(200, "EVENT_RECEIVED")


class WebhookConnector(Protocol):
    channel: str

    def handshake(self, query: Mapping[str, str]) -> str | WebhookResponse:
        """Answer the provider's subscription check (GET): a string is a 200 text answer.
        Raise SignatureError if refused, ConfigurationError if a secret is missing."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Pure check of the raw body's signature (and timestamp, where the provider signs
        one); raise SignatureError or ConfigurationError."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        """Typed events of a verified delivery; raise MalformedPayloadError if it is not one.
        An empty list is a delivery with nothing to process (a ping)."""
        ...

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        """The answer once every event is enqueued (usually `ACCEPTED`)."""
        ...

    def tenant_for(self, event: InboundEvent) -> str | None:
        """The tenant an event belongs to, from configuration only; None if unknown."""
        ...


@dataclass(frozen=True)
class ChannelDeps:
    """What a channel's `wiring` module may use to build its connector, provider API, jobs
    and calendar sync."""

    settings: Settings
    secrets: SecretSource
    clock: Clock
    #: Firestore-backed state a channel keeps between calls (sync tokens, subscriptions);
    #: built on first use, so a webhook that never needs it never connects.
    state: Callable[[], ChannelStateStore]
    #: The task queue, for jobs that turn what they find into processing tasks.
    tasks: Callable[[], TaskQueue]


@dataclass(frozen=True)
class SimulatedDelivery:
    """A realistic, correctly signed provider request for `atende simulate <channel>`."""

    body: bytes
    headers: dict[str, str]
    method: str = "POST"
    query: dict[str, str] | None = None


class ChannelSample(Protocol):
    """`atende.channels.<channel>.sample`: what `atende simulate <channel>` posts. A
    calendar channel may instead define `simulate(text, contact) -> int`, which drives its
    local calendar server and lets the change reach the stack."""

    def simulated_delivery(
        self, text: str, contact: str, secrets: SecretSource
    ) -> SimulatedDelivery: ...

    def signed_headers(self, body: bytes, secrets: SecretSource) -> dict[str, str]:
        """The provider's headers for a raw body (`simulate --payload FILE`)."""
        ...


#: A scheduled job's result: PII-free counts for the log and the HTTP answer.
JobReport = dict[str, Any]


class ChannelWiring(Protocol):
    """`atende.channels.<channel>.wiring`: found by name, so adding a channel changes no
    other module. Optional, by channel: `TEXT_LIMIT` (int), `provider_api(deps)`,
    `jobs(deps) -> dict[str, Callable[[], JobReport]]`, `calendar_sync(deps)`."""

    def connector(self, deps: ChannelDeps) -> WebhookConnector: ...
