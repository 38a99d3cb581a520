"""Build Send API requests (Messenger and Instagram), refusing anything over a documented limit.

`POST {base}/{page-or-ig-id}/messages` with `recipient: {id}`, `messaging_type: "RESPONSE"`
and a `message`: `text`, one `attachment` (by URL or reusable attachment id) or text with
`quick_replies` (at most 13, titles of at most 20 characters, payloads of at most 1000).
Instagram comment replies are `POST {base}/{comment-id}/replies` with a `message`.

Limits are checked before a payload exists, so a message Meta would reject is never sent
(and never retried). Error messages name the limit and the length, never the content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from atende.domain.messages import (
    ButtonsMessage,
    ListMessage,
    MediaMessage,
    OutboundMessage,
    TemplateMessage,
    TextMessage,
)
from atende.errors import InvalidOutboundMessageError

MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000

# Send API attachment types; a WhatsApp "document" is a Messenger "file".
_ATTACHMENT_TYPES = {"image": "image", "audio": "audio", "video": "video", "document": "file"}


@dataclass(frozen=True)
class SendLimits:
    """One product's documented text limits."""

    #: Longest `message.text`, in characters.
    text_chars: int
    #: Longest `message.text` in UTF-8 bytes, where the product documents a byte limit.
    text_bytes: int | None = None


def messages_url(api_base_url: str, account_id: str) -> str:
    """The Send API endpoint of one page (Messenger) or Instagram professional account."""
    return f"{api_base_url.rstrip('/')}/{_path_id('account id', account_id)}/messages"


def comment_replies_url(api_base_url: str, comment_id: str) -> str:
    """The endpoint that publishes a public reply to one Instagram comment."""
    return f"{api_base_url.rstrip('/')}/{_path_id('comment id', comment_id)}/replies"


def build_message(message: OutboundMessage, recipient: str, limits: SendLimits) -> dict[str, Any]:
    """The Send API body for `message` to the PSID or IGSID `recipient`; raise if over a limit."""
    _path_id("recipient", recipient)
    if isinstance(message, TextMessage):
        content: dict[str, Any] = {"text": _text(message.body, limits)}
    elif isinstance(message, MediaMessage):
        content = {"attachment": _attachment(message)}
    elif isinstance(message, ButtonsMessage):
        body = _joined(message.header, message.body, message.footer)
        content = {
            "text": _text(body, limits),
            "quick_replies": _quick_replies((b.id, b.title) for b in message.buttons),
        }
    elif isinstance(message, ListMessage):
        # Quick replies have no sections, list button or row descriptions: the rows' ids and
        # titles become the quick replies (see docs/channels.md).
        rows = [(row.id, row.title) for section in message.sections for row in section.rows]
        body = _joined(message.header, message.body, message.footer)
        content = {"text": _text(body, limits), "quick_replies": _quick_replies(rows)}
    elif isinstance(message, TemplateMessage):
        raise InvalidOutboundMessageError("WhatsApp templates cannot be sent on the Send API")
    else:  # pragma: no cover - the union is exhaustive
        raise InvalidOutboundMessageError("unknown outbound message kind")
    return {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": content}


def build_comment_reply(message: OutboundMessage, max_chars: int) -> dict[str, Any]:
    """The body of a public reply to a comment: text only."""
    if not isinstance(message, TextMessage):
        raise InvalidOutboundMessageError("a comment reply can only be text")
    _length("comment reply", message.body, 1, max_chars)
    return {"message": message.body}


def extract_message_id(response: Mapping[str, Any]) -> str | None:
    """The id Meta gave what we sent: `message_id` (Send API) or `id` (a comment reply)."""
    for key in ("message_id", "id"):
        value = response.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _path_id(what: str, value: str) -> str:
    # Page, account, comment and user ids are decimal strings; anything else could change
    # the request path, so it is refused rather than escaped.
    if not (value.isascii() and value.isdigit()):
        raise InvalidOutboundMessageError(f"{what} must be a non-empty string of digits")
    return value


def _length(what: str, value: str, low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise InvalidOutboundMessageError(
            f"{what} must be {low}..{high} characters, got {len(value)}"
        )


def _text(value: str, limits: SendLimits) -> str:
    _length("text", value, 1, limits.text_chars)
    if limits.text_bytes is not None:
        size = len(value.encode("utf-8"))
        if size > limits.text_bytes:
            raise InvalidOutboundMessageError(
                f"text must be at most {limits.text_bytes} UTF-8 bytes, got {size}"
            )
    return value


def _joined(*parts: str | None) -> str:
    return "\n\n".join(part for part in parts if part)


def _attachment(message: MediaMessage) -> dict[str, Any]:
    kind = _ATTACHMENT_TYPES.get(message.media_type)
    if kind is None:
        raise InvalidOutboundMessageError(f"{message.media_type} cannot be sent on the Send API")
    if message.caption is not None or message.filename is not None:
        # An attachment has no caption or file name: send the text as its own message.
        raise InvalidOutboundMessageError("Send API attachments take no caption or filename")
    if (message.link is None) == (message.media_id is None):
        raise InvalidOutboundMessageError("media needs exactly one of link and media_id")
    if message.link is not None:
        if not message.link.startswith(("https://", "http://")):
            raise InvalidOutboundMessageError("media link must be an http(s) URL")
        payload: dict[str, Any] = {"url": message.link}
    else:
        payload = {"attachment_id": _path_id("media_id", message.media_id or "")}
    return {"type": kind, "payload": payload}


def _quick_replies(choices: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    replies = list(choices)
    if not 1 <= len(replies) <= MAX_QUICK_REPLIES:
        raise InvalidOutboundMessageError(
            f"quick replies must number 1..{MAX_QUICK_REPLIES}, got {len(replies)}"
        )
    for payload, title in replies:
        _length("quick reply title", title, 1, MAX_QUICK_REPLY_TITLE)
        _length("quick reply payload", payload, 1, MAX_QUICK_REPLY_PAYLOAD)
    _unique("quick reply payloads", (payload for payload, _ in replies))
    return [
        {"content_type": "text", "title": title, "payload": payload} for payload, title in replies
    ]


def _unique(what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise InvalidOutboundMessageError(f"{what} must be unique")
        seen.add(value)
