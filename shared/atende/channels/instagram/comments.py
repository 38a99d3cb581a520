"""Instagram `comments` and `live_comments` changes as `CommentReceived` events.

A change's value is documented as `{id, from: {id, username}, text, media: {id,
media_product_type}, parent_id}`: `id` is the comment, `media.id` what was commented on,
`parent_id` the comment it answers. A comment by the account itself (our own reply, or one
made in the app) is skipped like a message echo: it is never a contact speaking.
"""

from __future__ import annotations

from atende.channels.meta._values import MALFORMED, ident, obj, text, unsupported
from atende.channels.meta.parse import Change
from atende.channels.unsupported import EPOCH
from atende.domain.events import CommentReceived, InboundEvent

COMMENTS = "comments"
LIVE_COMMENTS = "live_comments"


def comment_events(change: Change, channel: str) -> list[InboundEvent]:
    value = change.value
    if not isinstance(value, dict):
        return [unsupported(channel, change.raw, MALFORMED, change.account_id)]
    comment_id = ident(value.get("id"))
    author = ident(obj(value.get("from")).get("id"))
    if comment_id is None or author is None:
        return [unsupported(channel, change.raw, MALFORMED, change.account_id)]
    if author == change.account_id:
        return []
    return [
        CommentReceived(
            channel=channel,
            # Prefixed: comment ids and message ids are separate namespaces at Meta.
            event_id=f"comment:{comment_id}",
            account_id=change.account_id,
            contact_id=author,
            # The value has no time of its own; the entry's time is when Meta sent it.
            occurred_at=change.entry_time or EPOCH,
            raw=change.raw,
            comment_id=comment_id,
            target_id=ident(obj(value.get("media")).get("id")),
            parent_id=ident(value.get("parent_id")),
            text=text(value.get("text")),
            live=change.field == LIVE_COMMENTS,
            # Answered in its thread (`POST /{comment-id}/replies`) when an agent replies.
            reply_context={"comment_id": comment_id},
        )
    ]
