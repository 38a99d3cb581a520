"""Parse a TikTok webhook delivery into internal events (the webhook hot path).

A delivery is one event: ``{"client_key", "event", "create_time", "user_openid", "content"}``
where content is a *serialized* JSON string (developers.tiktok.com/doc/webhooks-events; the
API for Business sends the same envelope). Published posts become `VideoPublished`, new
comments `CommentReceived`; every other event (authorization.removed, failures, drafts,
portability, comment deletions…) is kept as an `UnsupportedEvent`. Only a body that is not a
JSON object raises.

TikTok gives an event no id. Its `event_id` is
``<event>:<create_time>:<sha256(user_openid, canonical content)[:32]>``: stable across
TikTok's redeliveries of the same event (the content is compared as parsed JSON, so a
re-serialization does not change it), different for different events, and free of the
user's open id in clear.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from atende import json_text
from atende.domain import keys
from atende.domain.events import CommentReceived, InboundEvent, UnsupportedEvent, VideoPublished
from atende.errors import MalformedPayloadError

CHANNEL = "tiktok"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MALFORMED = "malformed_item"

#: Published content, and the content field naming it: Video Kit's share (legacy), a
#: Content Posting publish, and the public post it became (the post id only comes here).
VIDEO_EVENTS: dict[str, str] = {
    "video.publish.completed": "share_id",
    "post.publish.complete": "publish_id",
    "post.publish.publicly_available": "post_id",
}
#: The API for Business's comment change event; only a new comment is a CommentReceived.
COMMENT_EVENT = "comment.update"
NEW_COMMENT = "insert"

_MAX_TIMESTAMP = 10**12


def parse_delivery(body: bytes) -> list[InboundEvent]:
    """The event of a (verified) delivery; raise MalformedPayloadError if not an object."""
    try:
        delivery = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedPayloadError("body is not JSON") from None
    if not isinstance(delivery, dict):
        raise MalformedPayloadError("body is not a JSON object")
    try:
        return [_event(delivery)]
    except ValidationError:
        # A model rejecting a value costs the event its interpretation, never the delivery.
        return [_unsupported(delivery, MALFORMED, _str(delivery.get("client_key")) or "")]


def event_id_for(event: str, create_time: int, user_openid: str | None, content: object) -> str:
    """The stable id of one TikTok event (see the module doc)."""
    digest = keys.stable_hash(user_openid or "", _canonical(content))[:32]
    return f"{event}:{create_time}:{digest}"


def _canonical(content: object) -> str:
    parsed = _json(content) if isinstance(content, str) else content
    if parsed is None:
        return content if isinstance(content, str) else "null"
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json(text: str) -> Any:
    try:
        return json_text.loads(text)  # nested JSON may hold lone surrogates too
    except (ValueError, RecursionError):
        return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: object) -> str | None:
    """An id TikTok may send as a string or an int64."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _str(value)


def _timestamp(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_TIMESTAMP:
        return value
    return None


def _unsupported(
    delivery: dict[str, Any],
    reason: str,
    account_id: str,
    *,
    event_id: str | None = None,
    contact_id: str | None = None,
    occurred_at: datetime = EPOCH,
) -> UnsupportedEvent:
    return UnsupportedEvent(
        channel=CHANNEL,
        event_id=event_id or event_id_for("unsupported", 0, None, delivery),
        account_id=account_id,
        contact_id=contact_id,
        occurred_at=occurred_at,
        raw=delivery,
        reason=reason,
    )


def _event(delivery: dict[str, Any]) -> InboundEvent:
    client_key = _str(delivery.get("client_key"))
    name = _str(delivery.get("event"))
    create_time = _timestamp(delivery.get("create_time"))
    if client_key is None or name is None or create_time is None:
        return _unsupported(delivery, MALFORMED, client_key or "")
    user_openid = _str(delivery.get("user_openid"))
    raw_content = delivery.get("content")
    event_id = event_id_for(name, create_time, user_openid, raw_content)
    occurred_at = datetime.fromtimestamp(create_time, tz=UTC)
    content = _json(raw_content) if isinstance(raw_content, str) else None
    if not isinstance(content, dict):
        content = None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "event_id": event_id,
        "account_id": client_key,
        "occurred_at": occurred_at,
        "raw": delivery,
    }
    id_field = VIDEO_EVENTS.get(name)
    if id_field is not None:
        video_id = _id(content.get(id_field)) if content is not None else None
        if video_id is None:
            return UnsupportedEvent(**common, contact_id=user_openid, reason=MALFORMED)
        # The TikTok user who published: the creator account connected to our app.
        return VideoPublished(**common, contact_id=user_openid, video_id=video_id)
    if name == COMMENT_EVENT:
        return _comment(common, content, user_openid)
    return UnsupportedEvent(**common, contact_id=user_openid, reason=f"unsupported_event:{name}")


def _comment(
    common: dict[str, Any], content: dict[str, Any] | None, user_openid: str | None
) -> InboundEvent:
    comment_id = _id(content.get("comment_id")) if content is not None else None
    if content is None or comment_id is None:
        return UnsupportedEvent(**common, contact_id=user_openid, reason=MALFORMED)
    action = _str(content.get("comment_action"))
    if action != NEW_COMMENT:
        # Deleted, hidden, made public or friends-only: a change of a comment, kept.
        return UnsupportedEvent(
            **common, contact_id=user_openid, reason=f"unsupported_comment_action:{action}"
        )
    reply = content.get("comment_type") == "reply"
    return CommentReceived(
        **common,
        # The event names the account whose video was commented on, not the commenter, and
        # carries no text: the comment's details come from the API for Business.
        contact_id=None,
        comment_id=comment_id,
        target_id=_id(content.get("video_id")),
        parent_id=_id(content.get("parent_comment_id")) if reply else None,
    )
