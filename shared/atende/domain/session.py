"""A conversation session: one per (tenant, channel, contact), with its ordered messages.

Pure data and pure updates; the store saves it with a version check.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from atende.domain.events import MessageReceived

#: Messages kept in the session document; older ones stay only in the audit and the outbox.
MAX_STORED_MESSAGES = 50


class StoredMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    at: datetime
    kind: str
    text: str | None = None
    choice_id: str | None = None


class PendingReply(BaseModel):
    """A reply not settled yet; replies of a session are sent in this order."""

    model_config = ConfigDict(frozen=True)

    outbox_id: str
    order_key: str
    queued_at: datetime


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    channel: str
    #: Personal data (a phone number on WhatsApp): stored to reply, never logged.
    contact_id: str
    #: The provider account we answer from (WhatsApp: the phone number id).
    account_id: str
    state: str = "new"
    messages: tuple[StoredMessage, ...] = ()
    outbound_pending: tuple[PendingReply, ...] = ()
    version: int = 0
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None = None

    def has_message(self, message_id: str) -> bool:
        return any(stored.id == message_id for stored in self.messages)

    def with_message(self, message: MessageReceived, now: datetime) -> Session:
        """Insert in (provider time, id) order; a message already stored changes nothing."""
        if self.has_message(message.message_id):
            return self
        stored = StoredMessage(
            id=message.message_id,
            at=message.occurred_at,
            kind=message.kind.value,
            text=message.text,
            choice_id=message.choice_id,
        )
        ordered = sorted((*self.messages, stored), key=lambda item: (item.at, item.id))
        last_inbound = max(filter(None, (self.last_inbound_at, message.occurred_at)))
        return self.model_copy(
            update={
                "messages": tuple(ordered[-MAX_STORED_MESSAGES:]),
                "last_inbound_at": last_inbound,
                "updated_at": now,
            }
        )

    def with_pending(self, replies: tuple[PendingReply, ...]) -> Session:
        merged = sorted((*self.outbound_pending, *replies), key=lambda item: item.order_key)
        return self.model_copy(update={"outbound_pending": tuple(merged)})

    def without_pending(self, outbox_id: str) -> Session:
        kept = tuple(item for item in self.outbound_pending if item.outbox_id != outbox_id)
        return self.model_copy(update={"outbound_pending": kept})

    def next_version(self, now: datetime) -> Session:
        return self.model_copy(update={"version": self.version + 1, "updated_at": now})


def new_session(
    *,
    session_id: str,
    tenant_id: str,
    channel: str,
    contact_id: str,
    account_id: str,
    now: datetime,
) -> Session:
    return Session(
        id=session_id,
        tenant_id=tenant_id,
        channel=channel,
        contact_id=contact_id,
        account_id=account_id,
        created_at=now,
        updated_at=now,
    )
