"""A conversation session: one per (tenant, channel, contact), with its ordered messages.

Messages are admitted to the `inbox` as they arrive and answered a short hold later, in
(provider time, id) order, so messages a contact sent together are answered in the order
they were written even when their tasks ran in another order. Pure data and pure updates;
the store saves it with a version check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from atende.domain.events import MessageReceived

#: Answered messages kept in the session document; older ones stay in the audit and outbox.
MAX_STORED_MESSAGES = 50


class StoredMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    at: datetime
    kind: str
    text: str | None = None
    choice_id: str | None = None


class PendingMessage(BaseModel):
    """An admitted message waiting to be answered (its raw provider item is not kept here)."""

    model_config = ConfigDict(frozen=True)

    event: MessageReceived
    arrived_at: datetime


class PendingReply(BaseModel):
    """A reply not settled yet; replies of a session are sent in this order."""

    model_config = ConfigDict(frozen=True)

    outbox_id: str
    order_key: str
    queued_at: datetime


def _message_order(event: MessageReceived) -> tuple[datetime, str]:
    return (event.occurred_at, event.message_id)


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
    inbox: tuple[PendingMessage, ...] = ()
    outbound_pending: tuple[PendingReply, ...] = ()
    #: Replies created so far: the order key of the next one.
    reply_seq: int = 0
    version: int = 0
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None = None

    def has_message(self, message_id: str) -> bool:
        return any(stored.id == message_id for stored in self.messages) or any(
            pending.event.message_id == message_id for pending in self.inbox
        )

    def admitted(self, message: MessageReceived, arrived_at: datetime, now: datetime) -> Session:
        """Queue a message for answering; one already known changes nothing."""
        if self.has_message(message.message_id):
            return self
        pending = PendingMessage(
            event=message.model_copy(update={"raw": {}}), arrived_at=arrived_at
        )
        inbox = sorted((*self.inbox, pending), key=lambda item: _message_order(item.event))
        last_inbound = max(filter(None, (self.last_inbound_at, message.occurred_at)))
        return self.model_copy(
            update={"inbox": tuple(inbox), "last_inbound_at": last_inbound, "updated_at": now}
        )

    def ready(self, now: datetime, hold: timedelta) -> tuple[PendingMessage, ...]:
        """The inbox up to its last message that has waited `hold`: earlier ones go with it,
        so nothing is answered ahead of a message written before it."""
        last = -1
        for index, pending in enumerate(self.inbox):
            if pending.arrived_at + hold <= now:
                last = index
        return self.inbox[: last + 1]

    def answered(self, message: MessageReceived) -> Session:
        """Move a message from the inbox to the answered history, in (time, id) order."""
        stored = StoredMessage(
            id=message.message_id,
            at=message.occurred_at,
            kind=message.kind.value,
            text=message.text,
            choice_id=message.choice_id,
        )
        inbox = tuple(p for p in self.inbox if p.event.message_id != message.message_id)
        history = sorted((*self.messages, stored), key=lambda item: (item.at, item.id))
        return self.model_copy(
            update={"inbox": inbox, "messages": tuple(history[-MAX_STORED_MESSAGES:])}
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
