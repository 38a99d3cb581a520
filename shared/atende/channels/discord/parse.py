"""Parse a verified Discord delivery into internal events (the webhook hot path).

One endpoint serves both of Discord's HTTP deliveries: interactions (the Interactions
Endpoint URL) and Webhook Events (the Webhook Events URL); their shapes tell them apart. Only
a body that is not a JSON object raises: anything inside it that we cannot interpret becomes
an explicit `UnsupportedEvent`, so it is acknowledged and audited, not lost.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from atende.channels.discord._common import CHANNEL, MALFORMED, ident, unsupported
from atende.channels.discord._interactions import interaction_events
from atende.channels.discord._webhook_events import is_webhook_event, webhook_events
from atende.domain.events import InboundEvent
from atende.errors import MalformedPayloadError

__all__ = ["CHANNEL", "decode", "parse_delivery"]


def decode(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; raise MalformedPayloadError if it is not one."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integers.
        raise MalformedPayloadError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayloadError("body is not a JSON object")
    return payload


def parse_delivery(body: bytes) -> list[InboundEvent]:
    """Every event in a (verified) delivery body; [] for either kind of PING."""
    payload = decode(body)
    try:
        if is_webhook_event(payload):
            return webhook_events(payload)
        return interaction_events(payload)
    except ValidationError:
        # The item parsers only pass well-typed values, so this is a last line of defence: a
        # value a model rejects costs this delivery its meaning, never its acknowledgement.
        return [unsupported(payload, MALFORMED, ident(payload.get("application_id")) or "")]
