"""Parse a Messenger or Instagram webhook delivery into internal events (the webhook hot path).

A delivery is `{"object": "page" | "instagram", "entry": [...]}`; each entry (one page or
Instagram account, `entry.id`) carries `messaging[]` items, `standby[]` items (a message
while another app controls the thread, under the handover protocol) or `changes[]` (fields
such as Instagram `comments`). Every item becomes zero or more events in delivery order;
only a body that is not a JSON object raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from atende.channels.meta._values import MALFORMED, ident, parse_time, unsupported
from atende.channels.meta.messaging import messaging_events
from atende.domain.events import InboundEvent
from atende.errors import MalformedPayloadError


@dataclass(frozen=True)
class Change:
    """One `entry[].changes[]` item, with what its parser needs from the entry."""

    field: str
    value: object
    account_id: str
    entry_time: datetime | None
    raw: dict[str, Any]


#: Turns one change of a field the channel understands into events.
ChangeParser = Callable[[Change, str], list[InboundEvent]]


@dataclass(frozen=True)
class Product:
    """What differs between Messenger and Instagram deliveries."""

    channel: str
    #: The delivery's `object`: "page" (Messenger) or "instagram".
    object_name: str
    change_parsers: Mapping[str, ChangeParser] = field(default_factory=dict)


def parse_delivery(body: bytes, product: Product) -> list[InboundEvent]:
    """Every event in a (verified) delivery; raise MalformedPayloadError if not a JSON object."""
    try:
        delivery = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integers.
        raise MalformedPayloadError("body is not JSON") from None
    if not isinstance(delivery, dict):
        raise MalformedPayloadError("body is not a JSON object")
    channel = product.channel
    if delivery.get("object") != product.object_name:
        return [unsupported(channel, delivery, "unknown_object", "")]
    entries = delivery.get("entry")
    if not isinstance(entries, list):
        return [unsupported(channel, delivery, MALFORMED, "")]
    events: list[InboundEvent] = []
    for entry in entries:
        events.extend(_entry_events(entry, product))
    return events


def _entry_events(entry: object, product: Product) -> list[InboundEvent]:
    channel = product.channel
    if not isinstance(entry, dict):
        return [unsupported(channel, entry, MALFORMED, "")]
    account = ident(entry.get("id")) or ""
    entry_time = parse_time(entry.get("time"))
    events: list[InboundEvent] = []
    found = False
    for key in ("messaging", "standby", "changes"):
        items = entry.get(key)
        if items is None:
            continue
        found = True
        if not isinstance(items, list):
            events.append(unsupported(channel, entry, MALFORMED, account))
            continue
        for item in items:
            events.extend(_safe(key, item, product, account, entry_time))
    if not found and "field" in entry:
        # Business Login for Instagram documents a change's field/value on the entry itself.
        found = True
        item = {"field": entry.get("field"), "value": entry.get("value")}
        events.extend(_safe("changes", item, product, account, entry_time))
    if not found:
        events.append(unsupported(channel, entry, "empty_entry", account))
    return events


def _safe(
    key: str, item: object, product: Product, account: str, entry_time: datetime | None
) -> list[InboundEvent]:
    # The item parsers only pass well-typed values, so this is a last line of defence: a model
    # rejecting a value must cost one item, never the whole delivery.
    try:
        return _item_events(key, item, product, account, entry_time)
    except ValidationError:
        return [unsupported(product.channel, item, MALFORMED, account)]


def _item_events(
    key: str, item: object, product: Product, account: str, entry_time: datetime | None
) -> list[InboundEvent]:
    channel = product.channel
    if key == "messaging":
        return messaging_events(item, channel, account, entry_time)
    if key == "standby":
        # Another app owns the thread: kept and audited, never answered by us.
        return [unsupported(channel, item, "standby", account)]
    if not isinstance(item, dict) or not isinstance(item.get("field"), str):
        return [unsupported(channel, item, MALFORMED, account)]
    name: str = item["field"]
    parser = product.change_parsers.get(name)
    if parser is None:
        return [unsupported(channel, item, f"unsupported_field:{name}", account)]
    change = Change(
        field=name, value=item.get("value"), account_id=account, entry_time=entry_time, raw=item
    )
    return parser(change, channel)
