"""Build a LinkedIn Comments API request that answers a comment as the organization.

`POST {base}/rest/socialActions/{target}/comments` (Comments API, "Create a Comment"): the
target is the post, or the comment being answered; the body names the author (`actor`, our
organization URN), the post (`object`) and the text (`message.text`); a reply to a comment
also names it as `parentComment`. LinkedIn has no endpoint that writes to a member privately
on an organization's behalf, so a comment reply is all this channel sends.

Limits are checked before a payload exists, so a comment LinkedIn would reject is never sent
(and never retried). Error messages name the limit and the length, never the content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from atende.domain.events import CommentReceived
from atende.domain.messages import OutboundMessage, TextMessage
from atende.errors import InvalidOutboundMessageError

#: The longest comment LinkedIn takes (its comment box and every Comments API integration
#: we found stop at 1,250 characters).
MAX_COMMENT_TEXT = 1250

#: `record.reply_context` keys: what the reply answers, and the post it belongs to.
TARGET_URN = "target_urn"
OBJECT_URN = "object_urn"

_COMMENT_PREFIX = "urn:li:comment:"
# urn:li:comment:(<thread: urn:li:activity:… or activity:…>,<comment id>)
_COMMENT_URN = re.compile(r"urn:li:comment:\((?P<thread>[^,()]+),(?P<id>[^,()]+)\)")
_RESTLI_PROTOCOL = "2.0.0"


def reply_context_for(event: CommentReceived) -> dict[str, str]:
    """What an outbox record needs to answer `event` in its thread: the comment itself as
    target, and the post it was written on."""
    context = {TARGET_URN: event.comment_id}
    post = _post_of(event)
    if post is not None:
        context[OBJECT_URN] = post
    return context


def _post_of(event: CommentReceived) -> str | None:
    decorated = event.raw.get("decoratedGeneratedActivity")
    comment = decorated.get("comment") if isinstance(decorated, dict) else None
    thread = comment.get("object") if isinstance(comment, dict) else None
    if isinstance(thread, str) and thread:
        return thread
    return thread_of(event.comment_id) or event.target_id


def thread_of(urn: str) -> str | None:
    """The activity a comment URN belongs to (its first part), as a full URN."""
    match = _COMMENT_URN.fullmatch(urn)
    if match is None:
        return None
    thread = match.group("thread")
    # generatedActivity sometimes abbreviates the thread as "activity:<id>".
    return thread if thread.startswith("urn:li:") else f"urn:li:{thread}"


def comments_url(api_base_url: str, target_urn: str) -> str:
    """The Comments API endpoint for a post or comment URN (URL-encoded, Rest.li 2.0)."""
    return f"{api_base_url.rstrip('/')}/rest/socialActions/{quote(target_urn, safe='')}/comments"


def request_headers(access_token: str, api_version: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "LinkedIn-Version": api_version,
        "X-Restli-Protocol-Version": _RESTLI_PROTOCOL,
    }


def build_comment(
    message: OutboundMessage, actor: str, reply_context: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """(target URN, JSON body) of the comment; raise InvalidOutboundMessageError if LinkedIn
    would refuse it."""
    if not isinstance(message, TextMessage):
        raise InvalidOutboundMessageError(
            f"LinkedIn comments carry text only, not {message.kind} messages"
        )
    if not 1 <= len(message.body) <= MAX_COMMENT_TEXT:
        raise InvalidOutboundMessageError(
            f"comment text must be 1..{MAX_COMMENT_TEXT} characters, got {len(message.body)}"
        )
    if not actor.startswith("urn:li:"):
        raise InvalidOutboundMessageError("the comment's actor must be an organization URN")
    target = reply_context.get(TARGET_URN)
    if not target or not target.startswith("urn:li:"):
        raise InvalidOutboundMessageError("a LinkedIn reply needs the URN it answers")
    parent = target if target.startswith(_COMMENT_PREFIX) else None
    post = reply_context.get(OBJECT_URN) or (thread_of(target) if parent else target)
    if not post:
        raise InvalidOutboundMessageError("the comment's post URN cannot be determined")
    body: dict[str, Any] = {"actor": actor, "object": post, "message": {"text": message.body}}
    if parent is not None:
        body["parentComment"] = parent
    return target, body


def extract_comment_id(response: Mapping[str, Any]) -> str | None:
    """The created comment's id from the response body: its URN where LinkedIn gives one,
    else its id. (LinkedIn also sends the id in the x-restli-id header, which the send port
    does not pass on.)"""
    for key in ("commentUrn", "$URN", "id"):
        value = response.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None
