"""Messenger deliveries: `object: "page"`, `entry[].messaging[]` only (page `changes`, such
as the feed, are kept as unsupported events: this channel is about conversations)."""

from __future__ import annotations

from atende.channels.meta.parse import Product
from atende.channels.meta.parse import parse_delivery as _parse
from atende.domain.events import InboundEvent

CHANNEL = "messenger"
PRODUCT = Product(channel=CHANNEL, object_name="page")


def parse_delivery(body: bytes) -> list[InboundEvent]:
    """Every event of a verified Messenger delivery; MalformedPayloadError if not an object."""
    return _parse(body, PRODUCT)
