"""Parse a (verified) WebSub notification of a YouTube channel feed into internal events.

The body is Atom XML and is parsed only through defusedxml with DTDs forbidden: YouTube never
sends one, and a DTD is what entity-expansion bombs and external entities need, so either is
a malformed body. Every `<entry>` (an upload, or a title/description update) becomes a
`VideoPublished`; a tombstone `<at:deleted-entry>` (RFC 6721, which YouTube sends when a video
is deleted or made private) and anything else we cannot interpret become explicit
`UnsupportedEvent`s, so they are acknowledged and audited, never lost.

`raw` keeps each item as XML text (`{"xml": ...}`), re-serialized from the parsed tree:
namespace prefixes may be renamed, nothing else changes.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from atende.channels.youtube.topics import (
    CHANNEL_ID,
    VIDEO_ID,
    channel_of_page,
    channel_of_topic,
)
from atende.domain.events import InboundEvent, UnsupportedEvent, VideoPublished
from atende.errors import MalformedPayloadError

CHANNEL = "youtube"
ATOM = "http://www.w3.org/2005/Atom"
YT = "http://www.youtube.com/xml/schemas/2015"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"

#: An entry whose `updated` is this much later than its `published` is an edit of a video
#: published before, not the upload itself (an upload's `updated` trails it by moments).
UPDATE_THRESHOLD = timedelta(minutes=15)
#: Atom entries are a few levels deep; a deeper tree is not a YouTube notification (and
#: serializing it back into `raw` would recurse without bound).
MAX_DEPTH = 32
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MALFORMED = "malformed_item"
DELETED = "video_deleted"

_FEED = f"{{{ATOM}}}feed"
_ENTRY = f"{{{ATOM}}}entry"
_DELETED_ENTRY = f"{{{TOMBSTONES}}}deleted-entry"
#: RFC 4287's feed-level metadata: describes the feed, carries no event.
_FEED_METADATA = frozenset(
    f"{{{ATOM}}}{name}"
    for name in (
        "author", "category", "contributor", "generator", "icon", "id", "link", "logo",
        "rights", "subtitle", "title", "updated",
    )
)  # fmt: skip
_VIDEO_REF_PREFIX = "yt:video:"
_MAX_TIMESTAMP_LENGTH = 64


def parse_notification(body: bytes) -> list[InboundEvent]:
    """Every event in a notification body; raise MalformedPayloadError if it is not XML."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as error:
        # DefusedXmlException: a DTD, entity declaration or external reference.
        raise MalformedPayloadError("body is not safe, well-formed XML") from error
    if _depth(root) > MAX_DEPTH:
        raise MalformedPayloadError("XML nested too deeply for an Atom feed")
    if root.tag != _FEED:
        return [_unsupported(root, "unknown_document", "")]
    feed_channel = _feed_channel(root)
    events: list[InboundEvent] = []
    for child in root:
        if child.tag == _ENTRY:
            events.append(_video_event(child, feed_channel))
        elif child.tag == _DELETED_ENTRY:
            events.append(_deleted_event(child, feed_channel))
        elif child.tag not in _FEED_METADATA:
            events.append(_unsupported(child, f"unsupported_element:{_local(child)}", feed_channel))
    if not events:
        events.append(_unsupported(root, "empty_feed", feed_channel))
    return events


def _video_event(entry: Element, feed_channel: str) -> InboundEvent:
    video_id = _text(entry.find(f"{{{YT}}}videoId"))
    channel_id = _text(entry.find(f"{{{YT}}}channelId"))
    updated_at = _timestamp(_text(entry.find(f"{{{ATOM}}}updated")))
    published_at = _timestamp(_text(entry.find(f"{{{ATOM}}}published")))
    if (
        video_id is None
        or not VIDEO_ID.fullmatch(video_id)
        or channel_id is None
        or not CHANNEL_ID.fullmatch(channel_id)
        or updated_at is None
    ):
        return _unsupported(entry, MALFORMED, feed_channel)
    return VideoPublished(
        channel=CHANNEL,
        # One id per version of the video, so each change is processed once.
        event_id=f"{video_id}:{updated_at.isoformat()}",
        account_id=channel_id,
        occurred_at=updated_at,
        raw=_raw(entry),
        video_id=video_id,
        title=_text(entry.find(f"{{{ATOM}}}title")),
        updated=published_at is not None and updated_at - published_at > UPDATE_THRESHOLD,
    )


def _deleted_event(tombstone: Element, feed_channel: str) -> InboundEvent:
    ref = tombstone.get("ref", "")
    video_id = ref[len(_VIDEO_REF_PREFIX) :] if ref.startswith(_VIDEO_REF_PREFIX) else None
    when = _timestamp(tombstone.get("when"))
    by_uri = _text(tombstone.find(f"{{{TOMBSTONES}}}by/{{{ATOM}}}uri"))
    channel_id = channel_of_page(by_uri) or feed_channel
    if video_id is None or not VIDEO_ID.fullmatch(video_id) or when is None:
        return _unsupported(tombstone, MALFORMED, channel_id)
    return _unsupported(
        tombstone,
        DELETED,
        channel_id,
        event_id=f"deleted:{video_id}:{when.isoformat()}",
        occurred_at=when,
    )


def _unsupported(
    element: Element,
    reason: str,
    account_id: str,
    *,
    event_id: str | None = None,
    occurred_at: datetime = EPOCH,
) -> UnsupportedEvent:
    raw = _raw(element)
    return UnsupportedEvent(
        channel=CHANNEL,
        # Without a provider id: a hash of the item, stable across redeliveries.
        event_id=event_id
        or "unsupported:" + hashlib.sha256(raw["xml"].encode("utf-8")).hexdigest(),
        account_id=account_id,
        occurred_at=occurred_at,
        raw=raw,
        reason=reason,
    )


def _feed_channel(feed: Element) -> str:
    """The channel of the feed's own `rel="self"` link (the topic), or ""."""
    for link in feed.findall(f"{{{ATOM}}}link"):
        if link.get("rel") == "self":
            return channel_of_topic(link.get("href")) or ""
    return ""


def _raw(element: Element) -> dict[str, str]:
    item = copy.copy(element)
    item.tail = None  # the whitespace after the item belongs to its parent
    return {"xml": tostring(item, encoding="unicode")}


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _timestamp(value: str | None) -> datetime | None:
    """An RFC 3339 date-time (Atom's format, YouTube sends nanoseconds) as aware UTC."""
    if value is None or len(value) > _MAX_TIMESTAMP_LENGTH:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # Atom requires an offset; a local time would be a guess
    return parsed.astimezone(UTC)


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2][:64]


def _depth(root: Element) -> int:
    """How deep the tree goes, without recursion."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in element)
    return deepest
