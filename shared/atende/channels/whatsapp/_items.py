"""Maps one WhatsApp webhook item (a message or a status) to one internal event.

Meta's shapes are read defensively: a field of the wrong type counts as absent, and an item we
cannot identify (no id, no status, no valid timestamp) becomes an `UnsupportedEvent` with reason
"malformed_item" instead of an exception, so one bad item never costs the rest of a delivery.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from atende.channels.unsupported import EPOCH, unsupported_event
from atende.domain.events import (
    InboundEvent,
    MediaRef,
    MessageDelivered,
    MessageFailed,
    MessageKind,
    MessageRead,
    MessageReceived,
    MessageSent,
    ProviderError,
    ReactionReceived,
    UnsupportedEvent,
)

CHANNEL = "whatsapp"
#: occurred_at of an unsupported item without a usable timestamp: fixed, so ids and audit
#: entries built from it stay stable across redeliveries.
MALFORMED = "malformed_item"

# Unix seconds as Meta sends them; 12 digits reach year 33658, more is garbage.
_MAX_TIMESTAMP_DIGITS = 12

_MEDIA_KINDS = {
    "image": MessageKind.IMAGE,
    "audio": MessageKind.AUDIO,
    "video": MessageKind.VIDEO,
    "document": MessageKind.DOCUMENT,
    "sticker": MessageKind.STICKER,
}
_REPLY_INTERACTIVES = frozenset({"button_reply", "list_reply"})
_STATUS_EVENTS: dict[str, type[MessageSent | MessageDelivered | MessageRead]] = {
    "sent": MessageSent,
    "delivered": MessageDelivered,
    "read": MessageRead,
}


def unsupported(
    item: object,
    reason: str,
    account_id: str,
    *,
    event_id: str | None = None,
    contact_id: str | None = None,
    occurred_at: datetime = EPOCH,
) -> UnsupportedEvent:
    """Keep an item we cannot interpret (see channels/unsupported.py)."""
    return unsupported_event(
        CHANNEL, item, reason, account_id,
        event_id=event_id, contact_id=contact_id, occurred_at=occurred_at,
    )  # fmt: skip


def parse_timestamp(value: object) -> datetime | None:
    """Unix seconds (Meta sends a decimal string) as an aware UTC datetime, else None."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
            return None
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        seconds = value
    else:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Content(NamedTuple):
    kind: MessageKind
    text: str | None = None
    choice_id: str | None = None
    media: MediaRef | None = None
    provider_kind: str | None = None
    contact_id: str | None = None
    target_message_id: str | None = None


def _edited_text(message: dict[str, Any]) -> str | None:
    """The new text of an edited message: a text's body, or a media message's caption."""
    kind = _str(message.get("type"))
    if kind == "text":
        return _str(_obj(message.get("text")).get("body"))
    if kind in _MEDIA_KINDS:
        return _str(_obj(message.get(kind)).get("caption"))
    return None


def _interactive(item: dict[str, Any]) -> _Content:
    interactive = _obj(item.get("interactive"))
    sub = _str(interactive.get("type"))
    if sub in _REPLY_INTERACTIVES:
        reply = _obj(interactive.get(sub))
        return _Content(
            MessageKind.INTERACTIVE, text=_str(reply.get("title")), choice_id=_str(reply.get("id"))
        )
    if sub == "nfm_reply":
        # A WhatsApp Flow answer: response_json stays a raw string inside `raw`.
        return _Content(MessageKind.INTERACTIVE, text=_str(_obj(interactive.get(sub)).get("body")))
    name = f"interactive:{sub}" if sub is not None else "interactive"
    return _Content(MessageKind.UNSUPPORTED, provider_kind=name)


def _content(provider_kind: str, item: dict[str, Any]) -> _Content:
    media_kind = _MEDIA_KINDS.get(provider_kind)
    if media_kind is not None:
        media = _obj(item.get(provider_kind))
        return _Content(
            media_kind,
            media=MediaRef(
                id=_str(media.get("id")),
                mime_type=_str(media.get("mime_type")),
                caption=_str(media.get("caption")),
                filename=_str(media.get("filename")),
            ),
        )
    if provider_kind == "text":
        return _Content(MessageKind.TEXT, text=_str(_obj(item.get("text")).get("body")))
    if provider_kind == "interactive":
        return _interactive(item)
    if provider_kind == "button":
        # Quick-reply button of a template: payload is what the business defined.
        button = _obj(item.get("button"))
        return _Content(
            MessageKind.BUTTON, text=_str(button.get("text")), choice_id=_str(button.get("payload"))
        )
    if provider_kind == "location":
        return _Content(MessageKind.LOCATION)
    if provider_kind == "contacts":
        return _Content(MessageKind.CONTACTS)
    if provider_kind == "order":
        return _Content(MessageKind.ORDER, text=_str(_obj(item.get("order")).get("text")))
    if provider_kind == "system":
        system = _obj(item.get("system"))
        return _Content(
            MessageKind.SYSTEM,
            text=_str(system.get("body")),
            contact_id=_id(system.get("customer")),
        )
    if provider_kind == "revoke":
        # The contact deleted an earlier message (Meta's "Revoke messages webhook reference":
        # `revoke.original_message_id`; sent for WhatsApp Business app numbers, "Coexistence").
        revoke = _obj(item.get("revoke"))
        return _Content(
            MessageKind.DELETED,
            provider_kind=provider_kind,
            target_message_id=_id(revoke.get("original_message_id")),
        )
    if provider_kind == "edit":
        # The contact changed a text or a caption within 15 minutes ("Edit messages webhook
        # reference": `edit.original_message_id`, and `edit.message`, the message as it is now).
        edit = _obj(item.get("edit"))
        return _Content(
            MessageKind.EDITED,
            text=_edited_text(_obj(edit.get("message"))),
            provider_kind=provider_kind,
            target_message_id=_id(edit.get("original_message_id")),
        )
    # "unsupported", "unknown" and any type Meta adds later: kept, flagged, never dropped.
    return _Content(MessageKind.UNSUPPORTED, provider_kind=provider_kind)


def message_event(item: object, account_id: str) -> InboundEvent:
    """One entry of value.messages[] as a MessageReceived or ReactionReceived."""
    if not isinstance(item, dict):
        return unsupported(item, MALFORMED, account_id)
    message_id = _id(item.get("id"))
    provider_kind = _id(item.get("type"))
    occurred_at = parse_timestamp(item.get("timestamp"))
    if message_id is None or provider_kind is None or occurred_at is None:
        return unsupported(item, MALFORMED, account_id)
    contact_id = _id(item.get("from"))
    if provider_kind == "reaction":
        reaction = _obj(item.get("reaction"))
        return ReactionReceived(
            channel=CHANNEL,
            event_id=message_id,
            account_id=account_id,
            contact_id=contact_id,
            occurred_at=occurred_at,
            raw=item,
            message_id=message_id,
            target_message_id=_id(reaction.get("message_id")),
            # Meta sends an empty emoji when the contact removes the reaction.
            emoji=_id(reaction.get("emoji")),
        )
    content = _content(provider_kind, item)
    return MessageReceived(
        channel=CHANNEL,
        event_id=message_id,
        account_id=account_id,
        contact_id=content.contact_id or contact_id,
        occurred_at=occurred_at,
        raw=item,
        message_id=message_id,
        kind=content.kind,
        text=content.text,
        choice_id=content.choice_id,
        media=content.media,
        reply_to=_id(_obj(item.get("context")).get("id")),
        provider_kind=content.provider_kind,
        target_message_id=content.target_message_id,
    )


def _provider_errors(value: object) -> tuple[ProviderError, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        ProviderError(
            code=_int(error.get("code")),
            title=_str(error.get("title")),
        )
        for error in value
        if isinstance(error, dict)
    )


def status_event(item: object, account_id: str) -> InboundEvent:
    """One entry of value.statuses[] as a delivery-progress event of our outbound message."""
    if not isinstance(item, dict):
        return unsupported(item, MALFORMED, account_id)
    provider_message_id = _id(item.get("id"))
    status = _id(item.get("status"))
    occurred_at = parse_timestamp(item.get("timestamp"))
    if provider_message_id is None or status is None or occurred_at is None:
        return unsupported(item, MALFORMED, account_id)
    event_id = f"{provider_message_id}:{status}"
    contact_id = _id(item.get("recipient_id"))
    callback_data = _str(item.get("biz_opaque_callback_data"))
    if status == "failed":
        return MessageFailed(
            channel=CHANNEL,
            event_id=event_id,
            account_id=account_id,
            contact_id=contact_id,
            occurred_at=occurred_at,
            raw=item,
            provider_message_id=provider_message_id,
            callback_data=callback_data,
            errors=_provider_errors(item.get("errors")),
        )
    event_type = _STATUS_EVENTS.get(status)
    if event_type is None:
        # "deleted", "warning" and whatever comes next: acknowledged, not guessed at.
        return unsupported(
            item,
            f"unsupported_status:{status}",
            account_id,
            event_id=event_id,
            contact_id=contact_id,
            occurred_at=occurred_at,
        )
    return event_type(
        channel=CHANNEL,
        event_id=event_id,
        account_id=account_id,
        contact_id=contact_id,
        occurred_at=occurred_at,
        raw=item,
        provider_message_id=provider_message_id,
        callback_data=callback_data,
    )
