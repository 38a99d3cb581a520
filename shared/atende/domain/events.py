"""Typed internal events every channel parses its provider payloads into.

Events are frozen and keep the provider's raw item (`raw`), so nothing the provider sent is
lost even when we do not understand it yet. `event_id` is the provider's stable id for the
event; dedupe keys and task names derive from it, never from time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    ORDER = "order"
    SYSTEM = "system"
    COMMAND = "command"
    UNSUPPORTED = "unsupported"
    #: The contact deleted an earlier message of theirs (`target_message_id`; WhatsApp
    #: `revoke`).
    DELETED = "deleted"
    #: The contact changed an earlier message (`target_message_id`); `text` is the new text
    #: (WhatsApp `edit`).
    EDITED = "edited"
    #: The contact mentioned the account in their own content (an Instagram story mention).
    MENTION = "mention"
    #: A link, post or reel the contact shared rather than wrote (Messenger `fallback`,
    #: Instagram `share`, `ig_post`, `reel`, `ig_reel`); `text` is what they typed with it.
    SHARE = "share"


#: Kinds that are not someone writing to us: recorded in the conversation for a person to
#: see, never answered by the bot, and never the start of a conversation (docs/conversation.md,
#: "Events that are not someone writing to us").
NOTICE_KINDS: frozenset[MessageKind] = frozenset(
    {MessageKind.DELETED, MessageKind.EDITED, MessageKind.MENTION}
)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    #: Stable provider id of this event (a message id; for a status, message id + status).
    event_id: str
    #: The provider account the event was addressed to (WhatsApp: the phone number id).
    account_id: str
    #: The contact's provider id (WhatsApp: the wa_id). Personal data: never logged.
    contact_id: str | None = None
    occurred_at: datetime
    #: The provider's item exactly as received.
    raw: dict[str, Any] = Field(default_factory=dict)


class MediaRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None = None
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None


class MessageReceived(_Event):
    type: Literal["message_received"] = "message_received"
    message_id: str
    kind: MessageKind
    #: Text typed by the contact, or the title of the button or list row they chose.
    text: str | None = None
    #: Id of the interactive reply, button payload or command the contact chose.
    choice_id: str | None = None
    media: MediaRef | None = None
    #: The message this one replies to, when the provider says so.
    reply_to: str | None = None
    #: The earlier message a deletion or an edit is about (kinds `deleted`, `edited`).
    target_message_id: str | None = None
    #: The provider's own name for the kind, kept when it is one we do not know.
    provider_kind: str | None = None
    #: What the provider needs to answer this very message (a Discord interaction's
    #: application id and token, valid 15 minutes); replies created for it carry it.
    reply_context: dict[str, str] = Field(default_factory=dict)


class ReactionReceived(_Event):
    type: Literal["reaction_received"] = "reaction_received"
    message_id: str
    target_message_id: str | None
    #: Empty when the contact removed the reaction.
    emoji: str | None


class ProviderError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: int | None = None
    title: str | None = None


class _StatusEvent(_Event):
    #: Our outbound message the status is about, as the provider identifies it.
    provider_message_id: str
    #: Data we attached to the send (WhatsApp `biz_opaque_callback_data`: our outbox id).
    callback_data: str | None = None


class MessageSent(_StatusEvent):
    type: Literal["message_sent"] = "message_sent"


class MessageDelivered(_StatusEvent):
    type: Literal["message_delivered"] = "message_delivered"


class MessageRead(_StatusEvent):
    type: Literal["message_read"] = "message_read"


class MessageFailed(_StatusEvent):
    type: Literal["message_failed"] = "message_failed"
    errors: tuple[ProviderError, ...] = ()


class CommentReceived(_Event):
    """A public comment (Instagram, LinkedIn, YouTube…): recorded for the CRM, and answered
    only by an agent or a channel's own rule, never by the bot in public."""

    type: Literal["comment_received"] = "comment_received"
    comment_id: str
    #: The post, media or video commented on.
    target_id: str | None = None
    #: The comment this one answers, in a thread.
    parent_id: str | None = None
    text: str | None = None
    #: A comment on a live broadcast.
    live: bool = False
    #: What the provider needs to answer this comment in its thread ({"comment_id"} at
    #: Instagram, {"target_urn", "object_urn"} at LinkedIn); empty where it cannot be answered.
    reply_context: dict[str, str] = Field(default_factory=dict)


class VideoPublished(_Event):
    """A video was published or updated on a channel we follow (YouTube WebSub)."""

    type: Literal["video_published"] = "video_published"
    video_id: str
    title: str | None = None
    updated: bool = False


class _CalendarEvent(_Event):
    calendar_id: str
    #: The provider's id of the appointment (stable across its changes; `event_id` also
    #: carries its version, so each change is processed once).
    calendar_event_id: str
    summary: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None
    #: "<channel>:<contact id>" of the person the appointment is for, when the event names
    #: one (Google: private extended property `atende_contact`; iCalendar: X-ATENDE-CONTACT).
    contact_ref: str | None = None


class CalendarEventCreated(_CalendarEvent):
    type: Literal["calendar_event_created"] = "calendar_event_created"


class CalendarEventUpdated(_CalendarEvent):
    type: Literal["calendar_event_updated"] = "calendar_event_updated"


class CalendarEventCancelled(_CalendarEvent):
    type: Literal["calendar_event_cancelled"] = "calendar_event_cancelled"


class CalendarSyncRequested(_Event):
    """A calendar says something changed (Google push): fetch the changes, then process them."""

    type: Literal["calendar_sync_requested"] = "calendar_sync_requested"
    calendar_id: str
    #: The watch channel that notified us.
    watch_id: str | None = None


class UnsupportedEvent(_Event):
    """Something correctly signed that we cannot interpret: kept, acknowledged, audited."""

    type: Literal["unsupported"] = "unsupported"
    reason: str


StatusEvent = MessageSent | MessageDelivered | MessageRead | MessageFailed
CalendarEvent = CalendarEventCreated | CalendarEventUpdated | CalendarEventCancelled

InboundEvent = Annotated[
    MessageReceived
    | ReactionReceived
    | MessageSent
    | MessageDelivered
    | MessageRead
    | MessageFailed
    | CommentReceived
    | VideoPublished
    | CalendarEventCreated
    | CalendarEventUpdated
    | CalendarEventCancelled
    | CalendarSyncRequested
    | UnsupportedEvent,
    Field(discriminator="type"),
]

INBOUND_EVENT: TypeAdapter[InboundEvent] = TypeAdapter(InboundEvent)

#: Delivery progress, so a late "delivered" never overwrites an earlier "read".
STATUS_RANK: dict[str, int] = {
    "message_sent": 1,
    "message_delivered": 2,
    "message_read": 3,
    "message_failed": 4,
}
