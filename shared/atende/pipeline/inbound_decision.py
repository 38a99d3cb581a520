"""Pure: admitting an inbound message to its session, and answering the session's inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from atende.conversation.step import ConversationStep, Turn
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import MessageReceived
from atende.domain.messages import OutboundMessage
from atende.domain.outbox import OutboxRecord, order_key
from atende.domain.session import PendingReply, Session, new_session
from atende.errors import TransientError
from atende.ports import InboundDecision


class HoldNotElapsedError(TransientError):
    """The message this answering task is for is still inside its hold; try again later."""

    code = "hold_not_elapsed"


@dataclass(frozen=True)
class DecisionContext:
    tenant_id: str
    session_id: str
    now: datetime
    outbox_ttl: timedelta
    dedupe_ttl: timedelta
    hold: timedelta
    correlation_id: str | None = None


def admit_message(
    current: Session | None, message: MessageReceived, arrived_at: datetime, ctx: DecisionContext
) -> Session | None:
    """The session with the message in its inbox, or None when it is already there."""
    session = current or new_session(
        session_id=ctx.session_id,
        tenant_id=ctx.tenant_id,
        channel=message.channel,
        contact_id=message.contact_id or "",
        account_id=message.account_id,
        now=ctx.now,
    )
    if session.has_message(message.message_id):
        return None
    return session.admitted(message, arrived_at, ctx.now).next_version(ctx.now)


def answer_inbox(
    session: Session, flow: ConversationStep, ctx: DecisionContext, awaited: str | None = None
) -> InboundDecision:
    """Answer every ready inbox message, in order. Raises HoldNotElapsedError when the
    message `awaited` is still waiting (so its task is retried, never dropped)."""
    batch = session.ready(ctx.now, ctx.hold)
    if awaited is not None and any(
        p.event.message_id == awaited for p in session.inbox[len(batch) :]
    ):
        raise HoldNotElapsedError("message still inside its hold")
    records: list[OutboxRecord] = []
    audit: list[AuditEntry] = []
    dedupe: list[tuple[str, DedupeRecord]] = []
    for pending in batch:
        message = pending.event
        before = session
        turn = flow.respond(session.state, message)
        session = session.answered(message).model_copy(update={"state": turn.state})
        replies = []
        for index, reply in enumerate(turn.replies):
            session = session.model_copy(update={"reply_seq": session.reply_seq + 1})
            replies.append(_record(session, message, index, reply, ctx))
        session = session.with_pending(
            tuple(
                PendingReply(outbox_id=r.id, order_key=r.order_key, queued_at=ctx.now)
                for r in replies
            )
        )
        records.extend(replies)
        audit.extend(_audit(before, session, turn, len(replies), message, ctx))
        dedupe.append(_dedupe(message, tuple(r.id for r in replies), ctx))
    return InboundDecision(
        session=session.next_version(ctx.now) if batch else session,
        outbox=tuple(records),
        audit=tuple(audit),
        dedupe=tuple(dedupe),
    )


def _record(
    session: Session,
    message: MessageReceived,
    index: int,
    reply: OutboundMessage,
    ctx: DecisionContext,
) -> OutboxRecord:
    return OutboxRecord(
        id=keys.outbox_id(ctx.tenant_id, session.id, message.event_id, index),
        tenant_id=ctx.tenant_id,
        channel=message.channel,
        session_id=session.id,
        account_id=session.account_id,
        recipient=session.contact_id,
        message=reply,
        inbound_event_id=message.event_id,
        reply_index=index,
        order_key=order_key(session.reply_seq),
        created_at=ctx.now,
        updated_at=ctx.now,
        expire_at=ctx.now + ctx.outbox_ttl,
    )


def _dedupe(
    message: MessageReceived, outbox_ids: tuple[str, ...], ctx: DecisionContext
) -> tuple[str, DedupeRecord]:
    key = keys.dedupe_key(message.channel, ctx.tenant_id, message.event_id)
    return key, DedupeRecord(
        channel=message.channel,
        tenant_id=ctx.tenant_id,
        event_type=message.type,
        created_at=ctx.now,
        expire_at=ctx.now + ctx.dedupe_ttl,
        outbox_ids=outbox_ids,
    )


def _audit(
    before: Session,
    after: Session,
    turn: Turn,
    replies: int,
    message: MessageReceived,
    ctx: DecisionContext,
) -> list[AuditEntry]:
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
                **{"from": before.state, "to": after.state, "reason": turn.reason},
            )
        )
    if turn.handoff:
        entries.append(entry(AuditKind.HANDOFF, reason=turn.reason))
    if replies:
        entries.append(
            entry(AuditKind.REPLY_QUEUED, replies=replies, message_kind=message.kind.value)
        )
    return entries
