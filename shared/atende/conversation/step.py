"""The interface every conversation engine implements, and what one turn produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from atende.ai.contract import Suggester
from atende.domain.audit import AuditKind
from atende.domain.events import MessageReceived
from atende.domain.messages import OutboundMessage
from atende.domain.outbox import ReplyOrigin
from atende.domain.session import Session
from atende.tenants.tenant_config import TenantConfig

Detail = dict[str, str | int | bool | None]


@dataclass(frozen=True)
class Reply:
    message: OutboundMessage
    origin: ReplyOrigin = ReplyOrigin.BOT


@dataclass(frozen=True)
class Note:
    """One decision for the audit trail: a kind and PII-free details."""

    kind: AuditKind
    detail: Detail = field(default_factory=dict)


@dataclass(frozen=True)
class TurnContext:
    tenant: TenantConfig
    now: datetime
    #: The channel's limit for one text message.
    text_limit: int
    #: The AI step, or None for the deterministic engine.
    suggest: Suggester | None = None
    #: Characters of redacted history the AI may see.
    ai_history_chars: int = 4000
    ai_model: str | None = None


@dataclass(frozen=True)
class Turn:
    """The outcome of one inbound message: the updated session, the replies, in order, and
    the decisions made on the way."""

    session: Session
    replies: tuple[Reply, ...] = ()
    notes: tuple[Note, ...] = ()


class ConversationStep(Protocol):
    def respond(self, session: Session, message: MessageReceived, ctx: TurnContext) -> Turn:
        """`session` already holds `message` in its history."""
        ...
