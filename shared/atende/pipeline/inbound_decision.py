"""Pure: from a session and an inbound message to the session, replies and audit to save."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from atende.conversation.step import ConversationStep
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.events import MessageReceived
from atende.domain.outbox import OutboxRecord, order_key
from atende.domain.session import PendingReply, Session, new_session
from atende.ports import InboundDecision


@dataclass(frozen=True)
class DecisionContext:
    tenant_id: str
    session_id: str
    now: datetime
    outbox_ttl: timedelta
    correlation_id: str | None = None


def decide_message(
    current: Session | None,
    message: MessageReceived,
    flow: ConversationStep,
    ctx: DecisionContext,
) -> InboundDecision:
    session = current or new_session(
        session_id=ctx.session_id,
        tenant_id=ctx.tenant_id,
        channel=message.channel,
        contact_id=message.contact_id or "",
        account_id=message.account_id,
        now=ctx.now,
    )
    if session.has_message(message.message_id):
        # Already answered (a dedupe record that expired, for example): store nothing new.
        return InboundDecision(session=session.next_version(ctx.now))
    session = session.with_message(message, ctx.now)
    turn = flow.respond(session.state, message)
    records = tuple(
        OutboxRecord(
            id=keys.outbox_id(ctx.tenant_id, session.id, message.event_id, index),
            tenant_id=ctx.tenant_id,
            channel=message.channel,
            session_id=session.id,
            account_id=session.account_id,
            recipient=session.contact_id,
            message=reply,
            inbound_event_id=message.event_id,
            reply_index=index,
            order_key=order_key(message.occurred_at, message.message_id, index),
            created_at=ctx.now,
            updated_at=ctx.now,
            expire_at=ctx.now + ctx.outbox_ttl,
        )
        for index, reply in enumerate(turn.replies)
    )
    pending = tuple(
        PendingReply(outbox_id=record.id, order_key=record.order_key, queued_at=ctx.now)
        for record in records
    )
    saved = (
        session.with_pending(pending).model_copy(update={"state": turn.state}).next_version(ctx.now)
    )
    return InboundDecision(
        session=saved,
        outbox=records,
        audit=_audit(session, saved, turn.reason, turn.handoff, records, message, ctx),
    )


def _audit(
    before: Session,
    after: Session,
    reason: str,
    handoff: bool,
    records: tuple[OutboxRecord, ...],
    message: MessageReceived,
    ctx: DecisionContext,
) -> tuple[AuditEntry, ...]:
    def entry(kind: AuditKind, **detail: str | int | bool | None) -> AuditEntry:
        return AuditEntry(
            kind=kind,
            at=ctx.now,
            channel=message.channel,
            tenant_id=ctx.tenant_id,
            session_id=after.id,
            event_id=keys.event_ref(message.channel, message.event_id),
            correlation_id=ctx.correlation_id,
            detail=detail,
        )

    entries = []
    if before.state != after.state:
        entries.append(
            entry(
                AuditKind.STATE_TRANSITION,
                **{"from": before.state, "to": after.state, "reason": reason},
            )
        )
    if handoff:
        entries.append(entry(AuditKind.HANDOFF, reason=reason))
    if records:
        entries.append(
            entry(AuditKind.REPLY_QUEUED, replies=len(records), message_kind=message.kind.value)
        )
    return tuple(entries)
