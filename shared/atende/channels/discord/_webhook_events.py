"""Maps one Discord Webhook Events delivery (the app-level events endpoint, not interactions)
to internal events.

The outer payload is `{"version": 1, "application_id", "type": 0 | 1, "event"?}`: type 0 is
Discord's PING when the URL is saved, type 1 carries `event = {"type", "timestamp", "data"}`
(APPLICATION_AUTHORIZED, ENTITLEMENT_CREATE, ...). None of them is a conversation, so each is
kept as an `UnsupportedEvent` (acknowledged, audited) with the event type in its reason.
These events carry no id of their own; Discord retries the same body for up to 10 minutes, so
the id is a hash of the payload, which a retry reproduces.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from atende.channels.discord._common import MALFORMED, ident, integer, iso_time, obj, unsupported
from atende.channels.unsupported import EPOCH, stable_item_id
from atende.domain.events import InboundEvent


class WebhookType(IntEnum):
    PING = 0
    EVENT = 1


def is_webhook_event(payload: dict[str, Any]) -> bool:
    """Webhook Events payloads have no interaction `id` or `token`; interactions always do."""
    return "token" not in payload and "id" not in payload


def webhook_type(payload: dict[str, Any]) -> int | None:
    return integer(payload.get("type"))


def webhook_events(payload: dict[str, Any]) -> list[InboundEvent]:
    """The events of one (verified) Webhook Events delivery; [] for a PING."""
    kind = webhook_type(payload)
    if kind == WebhookType.PING:
        return []
    application_id = ident(payload.get("application_id")) or ""
    event_id = stable_item_id(payload, prefix="webhook_event")
    if kind != WebhookType.EVENT:
        reason = f"unsupported_webhook_type:{kind}"
        return [unsupported(payload, reason, application_id, event_id=event_id)]
    event = payload.get("event")
    event_type = ident(event.get("type")) if isinstance(event, dict) else None
    if not isinstance(event, dict) or event_type is None:
        return [unsupported(payload, MALFORMED, application_id, event_id=event_id)]
    data = obj(event.get("data"))
    # APPLICATION_(DE)AUTHORIZED name a `user`; ENTITLEMENT_CREATE a `user_id`.
    contact_id = ident(obj(data.get("user")).get("id")) or ident(data.get("user_id"))
    return [
        unsupported(
            payload,
            f"webhook_event:{event_type}",
            application_id,
            event_id=event_id,
            contact_id=contact_id,
            occurred_at=iso_time(event.get("timestamp")) or EPOCH,
        )
    ]
