"""A conversation session: one per (tenant, channel, contact), with its ordered messages.

Messages are admitted to the `inbox` as they arrive and answered a short hold later, in
(provider time, id) order, so messages a contact sent together are answered in the order
they were written even when their tasks ran in another order. Pure data and pure updates;
the store saves it with a version check.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from atende.domain import bounds, keys
from atende.domain.events import MessageReceived
from atende.fsm.machine import TransitionRecord
from atende.fsm.states import State

#: Messages (the contact's and ours) kept in the session document; older ones stay in the
#: outbox and, as decisions, in the audit trail.
MAX_STORED_MESSAGES = 60

Author = Literal["contact", "bot", "agent"]


class StoredMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    at: datetime
    kind: str
    text: str | None = None
    choice_id: str | None = None
    author: Author = "contact"
    #: The required field this message answered: its text is personal data the AI never sees.
    field: str | None = None
    #: Folded in from a full inbox: kept for the conversation and the agent, never answered
    #: on its own (`Session.bounded`).
    overflow: bool = False


class AbuseState(BaseModel):
    """What the anti-abuse policy remembers about a contact between messages."""

    model_config = ConfigDict(frozen=True)

    #: The contact is ignored until then; the one notice went out when it was set.
    cooldown_until: datetime | None = None
    reason: str | None = None
    #: Hash of the last text (never the text) and how many times in a row it came.
    last_text_hash: str | None = None
    repeats: int = 0


class HandoffInfo(BaseModel):
    """The session waits for a person; projected to `handoffs/{session id}` for the CRM."""

    model_config = ConfigDict(frozen=True)

    requested_at: datetime
    reason: str
    queue: str
    #: Requested outside business hours (queued until the team is back).
    off_hours: bool = False
    #: Where the bot resumes when an agent hands the conversation back.
    resume_state: State = State.WAITING_USER
    #: Contact messages since the handoff that no agent answered yet.
    unread: int = 0
    last_inbound_at: datetime | None = None


class PendingMessage(BaseModel):
    """An admitted message waiting to be answered (its raw provider item is not kept here)."""

    model_config = ConfigDict(frozen=True)

    event: MessageReceived
    arrived_at: datetime


class Overflow(BaseModel):
    """What the session's bounds pushed out (`atende.domain.bounds`), so nothing leaves
    unnoticed: counted here, logged by the store, visible to agents and operators."""

    model_config = ConfigDict(frozen=True)

    #: Un-answered messages folded from a full inbox into the history (marked `overflow`).
    inbox_folded: int = 0
    last_at: datetime | None = None


def _message_order(event: MessageReceived) -> tuple[datetime, str]:
    return (event.occurred_at, event.message_id)


def _stored_event(event: MessageReceived) -> MessageReceived:
    """The event as the inbox keeps it: no raw provider item, texts bounded to
    `MAX_INBOX_TEXT_BYTES` (the whole event stays in its task while that runs)."""
    limit = bounds.MAX_INBOX_TEXT_BYTES
    media = event.media
    if media is not None:
        media = media.model_copy(
            update={
                "caption": bounds.truncate_optional(media.caption, limit),
                "filename": bounds.truncate_optional(media.filename, 1024),
            }
        )
    text = bounds.truncate_optional(event.text, limit)
    update: dict[str, object] = {"raw": {}, "text": text, "media": media}
    return event.model_copy(update=update)


def _inbox_bytes(inbox: list[PendingMessage]) -> int:
    return sum(len(item.model_dump_json().encode("utf-8")) for item in inbox)


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    channel: str
    #: Personal data (a phone number on WhatsApp): stored to reply, never logged.
    contact_id: str
    #: The provider account we answer from (WhatsApp: the phone number id).
    account_id: str
    state: State = State.NEW
    #: The newest transitions (each one is also in the audit trail).
    transitions: tuple[TransitionRecord, ...] = ()
    messages: tuple[StoredMessage, ...] = ()
    inbox: tuple[PendingMessage, ...] = ()
    #: Replies created so far: the order key of the next one.
    reply_seq: int = 0
    #: The newest reply's outbox id: the next reply is sent only after it has settled
    #: (`OutboxRecord.after`). Sends never write the session.
    last_reply_id: str | None = None
    version: int = 0
    #: Required field values the contact gave (personal data: never logged, never sent to
    #: the AI), the field being asked now, and the subject they are for.
    collected: dict[str, str] = {}
    collecting: str | None = None
    topic: str | None = None
    #: The queue or team label the CRM routes this conversation to.
    route: str | None = None
    #: The contact asked for no automated messages, until they write again.
    opted_out: bool = False
    abuse: AbuseState = AbuseState()
    handoff: HandoffInfo | None = None
    #: Counts answered batches and agent actions: an inactivity timer is for one value.
    activity_seq: int = 0
    #: The provider's reply context of the contact's latest message (a Discord interaction
    #: token): what a reply needs, on channels that answer a message rather than a contact.
    reply_context: dict[str, str] = {}
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None = None
    #: What the bounds pushed out so far (`Overflow`).
    overflow: Overflow = Overflow()
    #: For Firestore's TTL policy: the last write + the tenant's retention. Readers treat a
    #: session past it as absent (TTL deletion lags up to a day or more).
    expire_at: datetime | None = None

    #: The newest `MAX_SEEN_MESSAGES` admitted messages (`seen_key` of their ids): the
    #: dedupe of messages, inside the document every admission reads anyway.
    seen: tuple[str, ...] = ()

    def has_message(self, message_id: str) -> bool:
        """Admitted before: waiting in the inbox, in the history, or among the `seen`."""
        return (
            self.pending(message_id)
            or seen_key(message_id) in self.seen
            or any(stored.id == message_id for stored in self.messages)
        )

    def pending(self, message_id: str) -> bool:
        """Admitted and not answered yet."""
        return any(pending.event.message_id == message_id for pending in self.inbox)

    def expired(self, now: datetime) -> bool:
        """Past its retention: readers treat it as absent (a new conversation starts)."""
        return self.expire_at is not None and self.expire_at <= now

    def retained(self, now: datetime, retention: timedelta) -> Session:
        """The session as written at `now`: kept `retention` after this last activity."""
        return self.model_copy(update={"expire_at": now + retention})

    def bounded(self) -> Session:
        """The session within `atende.domain.bounds`, whatever it received: texts cut to
        `MAX_STORED_TEXT_BYTES`, and when the inbox holds more than `MAX_INBOX_MESSAGES` or
        `MAX_INBOX_BYTES`, its oldest messages folded into the history, unanswered and
        marked `overflow` (the conversation and the agent still read them; in a handoff
        they count as unread), and counted in `overflow`. Idempotent."""
        inbox = [
            item.model_copy(update={"event": _stored_event(item.event)}) for item in self.inbox
        ]
        folded: list[PendingMessage] = []
        while inbox and (
            len(inbox) > bounds.MAX_INBOX_MESSAGES or _inbox_bytes(inbox) > bounds.MAX_INBOX_BYTES
        ):
            folded.append(inbox.pop(0))
        history = tuple(
            m.model_copy(update={"text": bounds.truncate_optional(m.text)}) for m in self.messages
        )
        history = (
            *history,
            *(
                StoredMessage(
                    id=item.event.message_id,
                    at=item.event.occurred_at,
                    kind=item.event.kind.value,
                    text=bounds.truncate_optional(item.event.text),
                    choice_id=item.event.choice_id,
                    overflow=True,
                )
                for item in folded
            ),
        )[-MAX_STORED_MESSAGES:]
        overflow = self.overflow
        if folded:
            moments = [item.arrived_at for item in folded]
            overflow = Overflow(
                inbox_folded=overflow.inbox_folded + len(folded),
                last_at=max(filter(None, (overflow.last_at, *moments))),
            )
        handoff = self.handoff
        if handoff is not None and folded:
            handoff = handoff.model_copy(update={"unread": handoff.unread + len(folded)})
        collected = dict(
            (name, bounds.truncate_utf8(value))
            for name, value in list(self.collected.items())[-bounds.MAX_COLLECTED_FIELDS :]
        )
        update = {
            "inbox": tuple(inbox),
            "messages": history,
            "overflow": overflow,
            "handoff": handoff,
            "collected": collected,
            "topic": bounds.truncate_optional(self.topic),
        }
        bounded = self.model_copy(update=update)
        return self if bounded == self else bounded

    def admitted(self, message: MessageReceived, arrived_at: datetime, now: datetime) -> Session:
        """Queue a message for answering; one already known changes nothing. A full inbox
        folds its oldest messages into the history (`bounded`)."""
        if self.has_message(message.message_id):
            return self
        pending = PendingMessage(event=_stored_event(message), arrived_at=arrived_at)
        inbox = sorted((*self.inbox, pending), key=lambda item: _message_order(item.event))
        last_inbound = max(filter(None, (self.last_inbound_at, message.occurred_at)))
        seen = (*self.seen, seen_key(message.message_id))[-bounds.MAX_SEEN_MESSAGES :]
        return self.model_copy(
            update={
                "inbox": tuple(inbox),
                "last_inbound_at": last_inbound,
                "updated_at": now,
                "seen": seen,
            }
        ).bounded()

    def quarantined(self, message_id: str) -> Session:
        """The session without an inbox message taken into a dead letter: gone from the inbox
        and forgotten by `seen`, so that its replay is admitted again."""
        key = seen_key(message_id)
        return self.model_copy(
            update={
                "inbox": tuple(p for p in self.inbox if p.event.message_id != message_id),
                "seen": tuple(k for k in self.seen if k != key),
            }
        )

    def ready(
        self, now: datetime, hold: timedelta, max_wait: timedelta | None = None
    ) -> tuple[PendingMessage, ...]:
        """What to answer now, in order. A burst is answered together: the whole inbox once
        its newest message has waited `hold`. A contact who never pauses is not kept
        waiting: once the oldest message has waited `max_wait`, the inbox up to its last
        message that has waited `hold` is answered (earlier ones go with it, so nothing is
        answered ahead of a message written before it). Without `max_wait`, that is the
        rule at any time."""
        last = -1
        for index, pending in enumerate(self.inbox):
            if pending.arrived_at + hold <= now:
                last = index
        everything_waited = all(p.arrived_at + hold <= now for p in self.inbox)
        if max_wait is not None and not everything_waited:
            oldest = min(pending.arrived_at for pending in self.inbox)
            if now - oldest < max_wait:
                return ()
        return self.inbox[: last + 1]

    def waiting(self, message_id: str, now: datetime, hold: timedelta) -> bool:
        """The message is in the inbox and its own hold is not over."""
        return any(
            p.event.message_id == message_id and p.arrived_at + hold > now for p in self.inbox
        )

    def answered(self, message: MessageReceived) -> Session:
        """Move a message from the inbox to the end of the answered history."""
        stored = StoredMessage(
            id=message.message_id,
            at=message.occurred_at,
            kind=message.kind.value,
            text=bounds.truncate_optional(message.text),
            choice_id=message.choice_id,
        )
        inbox = tuple(p for p in self.inbox if p.event.message_id != message.message_id)
        context = message.reply_context or self.reply_context
        # Appended: the inbox is answered in (time, id) order, so the history is the
        # conversation as it happened, our replies (on our clock) included.
        history = (*self.messages, stored)[-MAX_STORED_MESSAGES:]
        return self.model_copy(
            update={"inbox": inbox, "messages": history, "reply_context": context}
        )

    def said(
        self, message_id: str, text: str | None, kind: str, author: Author, at: datetime
    ) -> Session:
        """Add one of our replies (bot or agent) to the history the AI and agents read."""
        # The full text of a reply stays in its outbox record.
        stored = StoredMessage(
            id=message_id, at=at, kind=kind, text=bounds.truncate_optional(text), author=author
        )
        history = (*self.messages, stored)[-MAX_STORED_MESSAGES:]
        return self.model_copy(update={"messages": history})

    def marked_as_field(self, message_id: str, field: str) -> Session:
        """Mark the contact's message as the answer to a required field."""
        marked = tuple(
            m.model_copy(update={"field": field}) if m.id == message_id else m
            for m in self.messages
        )
        return self.model_copy(update={"messages": marked})

    def contact_texts(self) -> tuple[str, ...]:
        return tuple(m.text for m in self.messages if m.author == "contact" and m.text)

    def next_version(self, now: datetime) -> Session:
        """The session as the next write saves it, within its bounds."""
        return self.bounded().model_copy(update={"version": self.version + 1, "updated_at": now})


def seen_key(message_id: str) -> str:
    """How `Session.seen` remembers a message id: 64 bits of its hash."""
    return keys.stable_hash("seen", message_id)[:16]


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
