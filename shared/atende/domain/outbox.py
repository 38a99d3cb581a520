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


SETTLED = frozenset(
    {OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.NEEDS_REVIEW, OutboxStatus.SUPPRESSED}
)


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


def order_key(reply_seq: int) -> str:
    """Replies of a session sort by the order the conversation produced them."""
    return f"{reply_seq:012d}"
