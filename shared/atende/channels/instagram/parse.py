"""Instagram deliveries: `object: "instagram"`, `entry[].messaging[]` (messages, postbacks,
reactions, seen) and `entry[].changes[]` for `comments` and `live_comments`."""

from __future__ import annotations

from atende.channels.instagram.comments import COMMENTS, LIVE_COMMENTS, comment_events
from atende.channels.meta.parse import Product
from atende.channels.meta.parse import parse_delivery as _parse
from atende.domain.events import InboundEvent

CHANNEL = "instagram"
PRODUCT = Product(
    channel=CHANNEL,
    object_name="instagram",
    change_parsers={COMMENTS: comment_events, LIVE_COMMENTS: comment_events},
)


def parse_delivery(body: bytes) -> list[InboundEvent]:
    """Every event of a verified Instagram delivery; MalformedPayloadError if not an object."""
    return _parse(body, PRODUCT)
