"""Outbox records: one per reply, keyed by an idempotency key, with every status change kept."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atende.domain.messages import OutboundMessage


class OutboxStatus(StrEnum):
    PENDING = "pending"
    #: A send attempt is under way; found on redelivery it means the outcome is unknown.
    SENDING = "sending"
    #: The last attempt failed transiently; the queue will try again.
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    #: A send may or may not have reached the provider (a crash mid-send): held, not resent.
    NEEDS_REVIEW = "needs_review"
    #: Not sent on purpose: an automated reply to a contact who opted out.
    SUPPRESSED = "suppressed"
    #: Its send task ran out of attempts: kept as a dead letter (`atende dead-letters`),
    #: the replies after it no longer wait for it; a replay makes it `retrying` again.
    DEAD_LETTERED = "dead_lettered"


SETTLED = frozenset(
    {
        OutboxStatus.SENT,
        OutboxStatus.FAILED,
        OutboxStatus.NEEDS_REVIEW,
        OutboxStatus.SUPPRESSED,
        OutboxStatus.DEAD_LETTERED,
    }
)


class CallOutcome(StrEnum):
    """What the last provider call of a claimed send is known to have done. A claim clears
    it: a record found `sending` with no known outcome may have reached the provider."""

    #: The send failed before any HTTP request (no sender, a missing secret, an invalid
    #: payload): nothing can have been sent.
    NOT_CALLED = "not_called"
    #: The provider answered with an error: nothing was sent.
    REFUSED = "refused"
    #: A timeout or a dropped connection: the provider may have the message.
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"


#: Failures of an HTTP attempt after which the provider may still have accepted the message.
UNCERTAIN_FAILURES = frozenset({"timeout", "connection_error"})


class ReplyOrigin(StrEnum):
    """Who wrote a reply: automated bot replies are suppressed for an opted-out contact; an
    agent's replies and the opt-out confirmation itself are not."""

    BOT = "bot"
    AGENT = "agent"
    NOTICE = "notice"


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str
    at: datetime
    attempt: int
    #: A short PII-free reason: an error code, an HTTP status, a provider status.
    detail: str | None = None


class OutboxRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    channel: str
    session_id: str
    account_id: str
    #: Personal data: the provider id of the contact we write to. Never logged.
    recipient: str
    message: OutboundMessage
    inbound_event_id: str
    reply_index: int
    order_key: str
    origin: ReplyOrigin = ReplyOrigin.BOT
    #: The session's reply before this one (None for its first): this one is sent only once
    #: that one has settled, or has kept it waiting past the maximum order wait.
    after: str | None = None
    #: What the provider needs to deliver this reply (a Discord interaction token); a
    #: credential of the conversation, never logged.
    reply_context: dict[str, str] = {}
    status: OutboxStatus = OutboxStatus.PENDING
    #: Provider HTTP attempts made so far.
    attempts: int = 0
    provider_message_id: str | None = None
    delivery_status: str | None = None
    delivery_errors: tuple[dict[str, Any], ...] = ()
    last_error: str | None = None
    #: The last provider call's known outcome; None while a claimed send is under way.
    last_call: CallOutcome | None = None
    history: tuple[StatusChange, ...] = Field(default_factory=tuple)
    created_at: datetime
    updated_at: datetime
    expire_at: datetime
    version: int = 0

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    def changed(
        self, status: OutboxStatus, *, at: datetime, detail: str | None = None, **fields: Any
    ) -> OutboxRecord:
        change = StatusChange(
            status=status.value, at=at, attempt=fields.get("attempts", self.attempts), detail=detail
        )
        return self.model_copy(
            update={
                **fields,
                "status": status,
                "history": (*self.history, change),
                "updated_at": at,
                "version": self.version + 1,
            }
        )

    def rearmed(self, now: datetime) -> OutboxRecord | None:
        """A dead-lettered record made sendable again for its replay; None when it is not
        dead-lettered (sent, held, or a status webhook proved it delivered)."""
        if self.status != OutboxStatus.DEAD_LETTERED:
            return None
        if self.delivery_status not in (None, "message_failed"):
            return None
        return self.changed(OutboxStatus.RETRYING, at=now, detail="replayed")


def order_key(reply_seq: int) -> str:
    """Replies of a session sort by the order the conversation produced them."""
    return f"{reply_seq:012d}"
