"""Maps one LinkedIn organization social action notification to one internal event.

LinkedIn documents a notification as: notificationId (long), organizationalEntity (the
organization URN), action (LIKE, COMMENT, SHARE, SHARE_MENTION, ADMIN_COMMENT, COMMENT_EDIT,
COMMENT_DELETE), sourcePost, decoratedSourcePost, lastModifiedAt (epoch milliseconds),
generatedActivity, decoratedGeneratedActivity ({"comment": {...}} or {"share": {...}}) and
subscriber. Fields are read defensively: a value of the wrong type counts as absent, and a
notification we cannot identify becomes an `UnsupportedEvent` instead of an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from atende.channels.linkedin.outbound import reply_context_for
from atende.channels.unsupported import EPOCH, unsupported_event
from atende.domain.events import CommentReceived, InboundEvent, UnsupportedEvent

CHANNEL = "linkedin"
#: occurred_at of an item without a usable timestamp: fixed, so redeliveries stay identical.
MALFORMED = "malformed_item"

#: The action that is a member's new comment on one of the organization's posts. The others
#: (likes, shares, mentions, edits, deletions, the organization's own comments) are kept as
#: UnsupportedEvent: the core has no event for them yet.
COMMENT_ACTION = "COMMENT"

# Epoch milliseconds; 15 digits reach year 33658, more is garbage.
_MAX_MILLIS = 10**15


def unsupported(
    item: object,
    reason: str,
    account_id: str = "",
    *,
    event_id: str | None = None,
    occurred_at: datetime = EPOCH,
) -> UnsupportedEvent:
    """Keep an item we do not interpret (see channels/unsupported.py)."""
    return unsupported_event(
        CHANNEL, item, reason, account_id, event_id=event_id, occurred_at=occurred_at
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def notification_id(value: object) -> str | None:
    """LinkedIn documents a long; a non-empty string is accepted as it is."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return _str(value)


def parse_millis(value: object) -> datetime | None:
    """Epoch milliseconds as an aware UTC datetime, else None."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _MAX_MILLIS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _comment_text(comment: dict[str, Any]) -> str | None:
    # The notification decoration carries "text"; the Comments API's own shape is
    # message.text. Either is read, nothing else.
    return _str(comment.get("text")) or _str(_obj(comment.get("message")).get("text"))


def notification_event(item: object) -> InboundEvent:
    """One entry of notifications[] as a CommentReceived or an UnsupportedEvent."""
    if not isinstance(item, dict):
        return unsupported(item, MALFORMED)
    event_id = notification_id(item.get("notificationId"))
    account_id = _str(item.get("organizationalEntity")) or ""
    action = _str(item.get("action"))
    occurred_at = parse_millis(item.get("lastModifiedAt"))
    if event_id is None or action is None or not account_id:
        return unsupported(item, MALFORMED, account_id, event_id=event_id)
    if action != COMMENT_ACTION:
        return unsupported(
            item,
            f"unsupported_action:{action}",
            account_id,
            event_id=event_id,
            occurred_at=occurred_at or EPOCH,
        )
    comment = _obj(_obj(item.get("decoratedGeneratedActivity")).get("comment"))
    comment_id = _str(comment.get("entity")) or _str(item.get("generatedActivity"))
    if comment_id is None or occurred_at is None:
        return unsupported(item, MALFORMED, account_id, event_id=event_id)
    event = CommentReceived(
        channel=CHANNEL,
        event_id=event_id,
        account_id=account_id,
        # The member who wrote the comment (urn:li:person:…): personal data, never logged.
        contact_id=_str(comment.get("owner")),
        occurred_at=occurred_at,
        raw=item,
        comment_id=comment_id,
        target_id=_str(item.get("sourcePost")) or _str(comment.get("object")),
        text=_comment_text(comment),
    )
    # Answered in its thread (the Comments API) when an agent replies.
    return event.model_copy(update={"reply_context": reply_context_for(event)})
