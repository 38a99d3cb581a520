"""Parse a LinkedIn webhook delivery into internal events (the webhook hot path).

A delivery is `{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [...]}`
(LinkedIn batches up to 10); every notification becomes exactly one event, in order. Another
`type` (a Lead Sync `LEAD_ACTION`, anything LinkedIn adds) is kept whole as one
`UnsupportedEvent`. Only a body that is not a JSON object raises.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from atende.channels.linkedin._items import (
    CHANNEL,
    MALFORMED,
    notification_event,
    unsupported,
)
from atende.domain.events import InboundEvent
from atende.errors import MalformedPayloadError

__all__ = ["CHANNEL", "SOCIAL_ACTIONS", "parse_delivery"]

SOCIAL_ACTIONS = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"


def parse_delivery(body: bytes) -> list[InboundEvent]:
    """Every event in a (verified) delivery; raise MalformedPayloadError if not an object."""
    try:
        delivery = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integers.
        raise MalformedPayloadError("body is not JSON") from None
    if not isinstance(delivery, dict):
        raise MalformedPayloadError("body is not a JSON object")
    kind = delivery.get("type")
    if kind != SOCIAL_ACTIONS:
        reason = f"unsupported_type:{kind}" if isinstance(kind, str) else MALFORMED
        # A Lead Sync notification has no notificationId; its hash keeps redeliveries equal.
        return [unsupported(delivery, reason)]
    notifications = delivery.get("notifications")
    if not isinstance(notifications, list):
        return [unsupported(delivery, MALFORMED)]
    if not notifications:
        return []
    return [_safe(item) for item in notifications]


def _safe(item: object) -> InboundEvent:
    # The item parser only passes well-typed values, so this is a last line of defence: a
    # model rejecting a value must cost one notification, never the whole delivery.
    try:
        return notification_event(item)
    except ValidationError:
        return unsupported(item, MALFORMED)
