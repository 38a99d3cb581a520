"""Maps one `entry[].messaging[]` item of a Messenger or Instagram webhook to internal events.

Both products send the same shapes (Messenger Platform webhook reference): `message` (text,
attachments, quick reply, reply_to; `is_echo` for what the account itself sent), `postback`,
`reaction`, `read` (Messenger: a `watermark` timestamp; Instagram `messaging_seen`: the `mid`
read) and, Messenger only, `delivery` (`mids` and a `watermark`). `sender.id` is the contact
(PSID or IGSID), `recipient.id` the account (page id or Instagram account id).

An item yields a list: none for an echo of our own send, one per delivered mid, one for
everything else. What we cannot interpret becomes an `UnsupportedEvent`, never an exception.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from atende.channels.meta._values import (
    MALFORMED,
    digest,
    ident,
    obj,
    parse_time,
    text,
    unsupported,
)
from atende.channels.unsupported import EPOCH, stable_item_id
from atende.domain.events import (
    InboundEvent,
    MediaRef,
    MessageDelivered,
    MessageKind,
    MessageRead,
    MessageReceived,
    ReactionReceived,
)

_ATTACHMENT_KINDS = {
    "image": MessageKind.IMAGE,
    "audio": MessageKind.AUDIO,
    "video": MessageKind.VIDEO,
    "file": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}
#: Attachments that are something shared rather than written (Messenger's `fallback` for a
#: shared link; Instagram's `share` and, since November 2025, `ig_post` for a shared post,
#: `reel`/`ig_reel` for a shared reel). The URL stays in `raw`.
_SHARED_ATTACHMENTS = frozenset({"fallback", "share", "ig_post", "reel", "ig_reel"})
#: Instagram: the contact mentioned the account in their story (`payload.url` is the story).
_STORY_MENTION = "story_mention"
# Keys every messaging item carries; the first other key names what the item is.
_ENVELOPE_KEYS = frozenset({"sender", "recipient", "timestamp"})


class _Item(NamedTuple):
    """The envelope of one messaging item, read once."""

    raw: dict[str, Any]
    channel: str
    account_id: str
    contact_id: str | None
    occurred_at: datetime | None


def messaging_events(
    item: object, channel: str, entry_account: str, entry_time: datetime | None
) -> list[InboundEvent]:
    """The events of one `entry[].messaging[]` item."""
    if not isinstance(item, dict):
        return [unsupported(channel, item, MALFORMED, entry_account)]
    envelope = _Item(
        raw=item,
        channel=channel,
        account_id=ident(obj(item.get("recipient")).get("id")) or entry_account,
        contact_id=ident(obj(item.get("sender")).get("id")),
        occurred_at=parse_time(item.get("timestamp")) or entry_time,
    )
    if "message" in item:
        return _message(envelope, obj(item.get("message")))
    if "postback" in item:
        return [_postback(envelope, obj(item.get("postback")))]
    if "reaction" in item:
        return [_reaction(envelope, obj(item.get("reaction")))]
    if "read" in item:
        return [_read(envelope, obj(item.get("read")))]
    if "delivery" in item:
        return _delivery(envelope, obj(item.get("delivery")))
    kinds = [key for key in item if key not in _ENVELOPE_KEYS]
    # message_edit, referral, optin, pass_thread_control…: kept, audited, not guessed at.
    reason = f"unsupported_messaging:{kinds[0]}" if kinds else MALFORMED
    return [_unsupported(envelope, reason)]


def _unsupported(envelope: _Item, reason: str, event_id: str | None = None) -> InboundEvent:
    return unsupported(
        envelope.channel,
        envelope.raw,
        reason,
        envelope.account_id,
        event_id=event_id,
        contact_id=envelope.contact_id,
        occurred_at=envelope.occurred_at or EPOCH,
    )


class _Content(NamedTuple):
    kind: MessageKind
    text: str | None = None
    choice_id: str | None = None
    media: MediaRef | None = None
    provider_kind: str | None = None


def _content(message: dict[str, Any]) -> _Content:
    body = text(message.get("text"))
    if message.get("is_unsupported") is True:
        # Instagram: a message type the API does not deliver (a GIF, some shares).
        return _Content(MessageKind.UNSUPPORTED, text=body, provider_kind="unsupported")
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict):
        # The text is the tapped quick reply's title; the payload is the id we gave it.
        return _Content(
            MessageKind.INTERACTIVE, text=body, choice_id=text(quick_reply.get("payload"))
        )
    attachments = message.get("attachments")
    if isinstance(attachments, list) and attachments:
        first = obj(attachments[0])
        provider_type = ident(first.get("type")) or "unknown"
        kind = _ATTACHMENT_KINDS.get(provider_type)
        if kind is None:
            if provider_type in _SHARED_ATTACHMENTS:
                kind = MessageKind.SHARE
            elif provider_type == _STORY_MENTION:
                kind = MessageKind.MENTION
            else:
                # template, location, whatever comes next: the raw item keeps it.
                kind = MessageKind.UNSUPPORTED
            return _Content(kind, text=body, provider_kind=f"attachment:{provider_type}")
        # The payload's URL stays in `raw`: MediaRef has no URL field (see docs).
        return _Content(kind, text=body, media=MediaRef(caption=body))
    if body is not None:
        return _Content(MessageKind.TEXT, text=body)
    return _Content(MessageKind.UNSUPPORTED, provider_kind="message")


def _message(envelope: _Item, message: dict[str, Any]) -> list[InboundEvent]:
    if message.get("is_echo") is True:
        # What our own account sent (our Send API calls, or a person in the Page inbox):
        # never a contact's message, never answered.
        return []
    mid = ident(message.get("mid"))
    if mid is None or envelope.contact_id is None or envelope.occurred_at is None:
        return [_unsupported(envelope, MALFORMED)]
    if message.get("is_deleted") is True:
        return [_unsupported(envelope, "message_deleted", event_id=f"{mid}:deleted")]
    content = _content(message)
    return [
        MessageReceived(
            channel=envelope.channel,
            event_id=mid,
            account_id=envelope.account_id,
            contact_id=envelope.contact_id,
            occurred_at=envelope.occurred_at,
            raw=envelope.raw,
            message_id=mid,
            kind=content.kind,
            text=content.text,
            choice_id=content.choice_id,
            media=content.media,
            reply_to=ident(obj(message.get("reply_to")).get("mid")),
            provider_kind=content.provider_kind,
        )
    ]


def _postback(envelope: _Item, postback: dict[str, Any]) -> InboundEvent:
    if envelope.contact_id is None or envelope.occurred_at is None:
        # A postback from a `user_ref` (chat plugin) has no PSID to answer.
        return _unsupported(envelope, MALFORMED)
    # `mid` is there from Graph v11; before, the canonical item is the stable id.
    event_id = ident(postback.get("mid")) or stable_item_id(envelope.raw, "postback")
    return MessageReceived(
        channel=envelope.channel,
        event_id=event_id,
        account_id=envelope.account_id,
        contact_id=envelope.contact_id,
        occurred_at=envelope.occurred_at,
        raw=envelope.raw,
        message_id=event_id,
        kind=MessageKind.BUTTON,
        text=text(postback.get("title")),
        choice_id=text(postback.get("payload")),
        provider_kind="postback",
    )


def _reaction(envelope: _Item, reaction: dict[str, Any]) -> InboundEvent:
    target = ident(reaction.get("mid"))
    action = ident(reaction.get("action")) or "react"
    stamp = envelope.raw.get("timestamp")
    if envelope.occurred_at is None or not isinstance(stamp, int | str):
        return _unsupported(envelope, MALFORMED)
    event_id = f"{target or 'unknown'}:reaction:{action}:{stamp}"
    return ReactionReceived(
        channel=envelope.channel,
        event_id=event_id,
        account_id=envelope.account_id,
        contact_id=envelope.contact_id,
        occurred_at=envelope.occurred_at,
        raw=envelope.raw,
        message_id=event_id,
        target_message_id=target,
        # An "unreact" removes the reaction: no emoji, as the domain event documents.
        emoji=None if action == "unreact" else ident(reaction.get("emoji")),
    )


def _watermark(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def _read(envelope: _Item, read: dict[str, Any]) -> InboundEvent:
    at = envelope.occurred_at
    if at is None:
        return _unsupported(envelope, MALFORMED)
    mid = ident(read.get("mid"))
    if mid is not None:
        # Instagram messaging_seen: the message that was read.
        return _status(MessageRead, envelope, at, mid, f"{mid}:read")
    watermark = _watermark(read.get("watermark"))
    if watermark is None:
        return _unsupported(envelope, MALFORMED)
    # Messenger message_reads: everything sent up to the watermark (ms) was read. No message
    # id, so it matches no outbox record by itself; it is recorded for the conversation.
    return _status(
        MessageRead,
        envelope,
        at,
        f"watermark:{watermark}",
        f"watermark:{watermark}:read:{digest(envelope.contact_id or envelope.account_id)}",
    )


def _delivery(envelope: _Item, delivery: dict[str, Any]) -> list[InboundEvent]:
    at = envelope.occurred_at or parse_time(delivery.get("watermark"))
    if at is None:
        return [_unsupported(envelope, MALFORMED)]
    mids = delivery.get("mids")
    if isinstance(mids, list) and mids:
        events: list[InboundEvent] = []
        for value in mids:
            mid = ident(value)
            if mid is None:
                events.append(_unsupported(envelope, MALFORMED))
            else:
                events.append(_status(MessageDelivered, envelope, at, mid, f"{mid}:delivered"))
        return events
    watermark = _watermark(delivery.get("watermark"))
    if watermark is None:
        return [_unsupported(envelope, MALFORMED)]
    # Older clients send only the watermark: everything sent before it was delivered.
    contact = digest(envelope.contact_id or envelope.account_id)
    return [
        _status(
            MessageDelivered,
            envelope,
            at,
            f"watermark:{watermark}",
            f"watermark:{watermark}:delivered:{contact}",
        )
    ]


def _status(
    event_type: type[MessageRead | MessageDelivered],
    envelope: _Item,
    occurred_at: datetime,
    provider_message_id: str,
    event_id: str,
) -> InboundEvent:
    return event_type(
        channel=envelope.channel,
        event_id=event_id,
        account_id=envelope.account_id,
        contact_id=envelope.contact_id,
        occurred_at=occurred_at,
        raw=envelope.raw,
        provider_message_id=provider_message_id,
    )
