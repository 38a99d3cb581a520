"""The YouTube webhook connector: the hub's verification of intent, the signed Atom
notifications, and the tenant from the channel id through configuration only."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from atende.channels.base import ACCEPTED
from atende.channels.youtube.parse import CHANNEL, parse_notification
from atende.channels.youtube.settings import HUB_SECRET
from atende.channels.youtube.topics import channel_of_topic
from atende.channels.youtube.verify import (
    MODE_DENIED,
    SIGNATURE_HEADER,
    verify_intent,
    verify_signature,
)
from atende.domain.events import InboundEvent
from atende.ports import SecretSource, WebhookResponse

logger = logging.getLogger(__name__)

#: Our answer to a denial: the hub expects nothing in particular, and nothing is enqueued.
DENIAL_ACKNOWLEDGED = WebhookResponse(200, "")


class YouTubeConnector:
    channel = CHANNEL

    def __init__(self, secrets: SecretSource, topics: Mapping[str, str]) -> None:
        self._secrets = secrets
        self._tenants = dict(topics)

    def handshake(self, query: Mapping[str, str]) -> str | WebhookResponse:
        if query.get("hub.mode") == MODE_DENIED:
            # The hub refused (or ended) a subscription: nothing to confirm. The renewal job
            # asks again when the stored lease runs out; an operator should look now.
            channel = channel_of_topic(query.get("hub.topic"))
            logger.warning(
                "the hub denied a YouTube subscription",
                extra={
                    "json_fields": {
                        "outcome": "subscription_denied",
                        "account_id": channel if channel in self._tenants else None,
                    }
                },
            )
            return DENIAL_ACKNOWLEDGED
        # WebSub: the echo goes out as plain text the browser must not sniff into HTML.
        challenge = verify_intent(query, self._tenants.keys())
        return WebhookResponse(200, challenge, "text/plain", {"X-Content-Type-Options": "nosniff"})

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_signature(body, headers.get(SIGNATURE_HEADER), self._secrets.get(HUB_SECRET))

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return parse_notification(body)

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        # WebSub: any 2xx; the hub ignores the body.
        return ACCEPTED

    def tenant_for(self, event: InboundEvent) -> str | None:
        return self._tenants.get(event.account_id)
