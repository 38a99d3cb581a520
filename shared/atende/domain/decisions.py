"""What the use cases decide, as values a unit of work writes: pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from atende.domain.audit import AuditEntry
from atende.domain.comment import CommentRecord
from atende.domain.handoff import HandoffRecord
from atende.domain.outbox import OutboxRecord
from atende.domain.session import Session


@dataclass(frozen=True)
class InboundDecision:
    """What a turn decided about a session: everything one unit of work writes for it."""

    session: Session
    outbox: tuple[OutboxRecord, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    #: Written to `handoffs/{session id}` when the session's handoff changed.
    handoff: HandoffRecord | None = None


@dataclass(frozen=True)
class CommentReply:
    comment: CommentRecord
    outbox: OutboxRecord
    audit: tuple[AuditEntry, ...] = ()


ActOutcome = Literal["applied", "duplicate", "no_session"]


@dataclass(frozen=True)
class StatusDecision:
    record: OutboxRecord | None
    audit: tuple[AuditEntry, ...] = ()
