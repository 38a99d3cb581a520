"""Parse a WhatsApp Cloud API webhook delivery into internal events (the webhook hot path).

One delivery may carry many entries, each with many changes, each with many messages or
statuses; every one becomes exactly one event, in delivery order (per change: messages, then
statuses). Only a body that is not a JSON object raises: anything inside it that we cannot
interpret becomes an explicit `UnsupportedEvent`, so it is acknowledged and audited, not lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from atende.channels.whatsapp._items import (
    CHANNEL,
    MALFORMED,
    message_event,
    status_event,
    unsupported,
)
from atende.domain.events import InboundEvent
from atende.errors import MalformedPayloadError

__all__ = ["CHANNEL", "parse_delivery"]

_OBJECT = "whatsapp_business_account"
_ItemParser = Callable[[object, str], InboundEvent]
_ITEM_PARSERS: tuple[tuple[str, _ItemParser], ...] = (
    ("messages", message_event),
    ("statuses", status_event),
)


def parse_delivery(body: bytes) -> list[InboundEvent]:
    """Every event in a (verified) delivery body; raise MalformedPayloadError if not an object."""
    try:
        delivery = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integers.
        raise MalformedPayloadError("body is not JSON") from None
    if not isinstance(delivery, dict):
        raise MalformedPayloadError("body is not a JSON object")
    if delivery.get("object") != _OBJECT:
        return [unsupported(delivery, "unknown_object", "")]
    entries = delivery.get("entry")
    if not isinstance(entries, list):
        return [unsupported(delivery, MALFORMED, "")]
    events: list[InboundEvent] = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            events.append(unsupported(entry, MALFORMED, ""))
            continue
        for change in changes:
            events.extend(_change_events(change))
    return events


def _change_events(change: object) -> list[InboundEvent]:
    if not isinstance(change, dict):
        return [unsupported(change, MALFORMED, "")]
    field = change.get("field")
    if not isinstance(field, str):
        return [unsupported(change, MALFORMED, "")]
    if field != "messages":
        return [unsupported(change, f"unsupported_field:{field}", "")]
    value = change.get("value")
    if not isinstance(value, dict):
        return [unsupported(change, MALFORMED, "")]
    metadata = value.get("metadata")
    account_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    if not isinstance(account_id, str) or not account_id:
        return [unsupported(change, "missing_phone_number_id", "")]
    events: list[InboundEvent] = []
    for key, parse_item in _ITEM_PARSERS:
        items = value.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            events.append(unsupported(change, MALFORMED, account_id))
            continue
        events.extend(_safe(parse_item, item, account_id) for item in items)
    if "errors" in value:
        # Meta reports problems not tied to one message in value.errors.
        events.append(unsupported(change, "provider_errors", account_id))
    if not events:
        events.append(unsupported(change, "empty_change", account_id))
    return events


def _safe(parse_item: _ItemParser, item: Any, account_id: str) -> InboundEvent:
    # The item parsers only pass well-typed values, so this is a last line of defence: a model
    # rejecting a value must cost one item, never the whole delivery.
    try:
        return parse_item(item, account_id)
    except ValidationError:
        return unsupported(item, MALFORMED, account_id)
