"""Pure: admitting an inbound message to its session, answering the session's inbox, and
turning any conversation turn into outbox records, audit entries and a handoff record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from atende.ai.contract import Suggester
from atende.conversation.step import ConversationStep, Note, Turn, TurnContext
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.decisions import InboundDecision
from atende.domain.events import MessageReceived
from atende.domain.handoff import project
from atende.domain.messages import TextMessage
from atende.domain.outbox import OutboxRecord, ReplyOrigin, order_key
from atende.domain.session import Author, Session, new_session
from atende.errors import AtendeError, TransientError
from atende.tenants.tenant_config import DEFAULT_CONFIG, TenantConfig

#: WhatsApp's limit for one text message; channels with a lower one say so.
DEFAULT_TEXT_LIMIT = 4096


class HoldNotElapsedError(TransientError):
    """The message this answering task is for is still inside its hold; try again later."""

    code = "hold_not_elapsed"


class PoisonMessageError(TransientError):
    """Answering one inbox message failed for a reason other than a transient one (an
    unexpected exception in the engine, a permanent error): retried a few times, then that
    message is taken out of the inbox into a dead letter so the others are answered."""

    code = "poison_message"

    def __init__(self, message_id: str, cause: Exception) -> None:
        super().__init__("answering one inbox message failed")
        self.message_id = message_id
        #: The cause's code: an AtendeError's, else "unexpected_error".
        self.cause_code = cause.code if isinstance(cause, AtendeError) else "unexpected_error"


@dataclass(frozen=True)
class DecisionContext:
    tenant_id: str
    session_id: str
    now: datetime
    outbox_ttl: timedelta
    dedupe_ttl: timedelta
    hold: timedelta
    correlation_id: str | None = None
    #: How long a contact who never pauses waits for an answer (`Session.ready`).
    max_wait: timedelta | None = None
    tenant: TenantConfig = DEFAULT_CONFIG
    text_limit: int = DEFAULT_TEXT_LIMIT
    suggest: Suggester | None = None
    ai_history_chars: int = 4000
    ai_model: str | None = None

    def turn_context(self) -> TurnContext:
        return TurnContext(
            tenant=self.tenant,
            now=self.now,
            text_limit=self.text_limit,
            suggest=self.suggest,
            ai_history_chars=self.ai_history_chars,
            ai_model=self.ai_model,
        )


def admit_message(
    current: Session | None, message: MessageReceived, arrived_at: datetime, ctx: DecisionContext
) -> Session | None:
    """The session with the message in its inbox, or None when it was admitted before
    (`Session.has_message`: the session is the messages' dedupe)."""
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


@dataclass(frozen=True)
class AppliedTurn:
    session: Session
    outbox: tuple[OutboxRecord, ...]
    audit: tuple[AuditEntry, ...]


def apply_turn(turn: Turn, source_event_id: str, ctx: DecisionContext) -> AppliedTurn:
    """The turn's replies as outbox records, in order, each sent after the one before it
    (`OutboxRecord.after`), and in the session's history; its notes as audit entries.
    `source_event_id` is what the replies answer (an
    inbound event id, or an agent request) and, with the reply's index, their idempotency
    key."""
    session = turn.session
    records: list[OutboxRecord] = []
    for index, reply in enumerate(turn.replies):
        after = session.last_reply_id
        session = session.model_copy(update={"reply_seq": session.reply_seq + 1})
        record = OutboxRecord(
            id=keys.outbox_id(ctx.tenant_id, session.id, source_event_id, index),
            tenant_id=ctx.tenant_id,
            channel=session.channel,
            session_id=session.id,
            account_id=session.account_id,
            recipient=session.contact_id,
            message=reply.message,
            inbound_event_id=source_event_id,
            reply_index=index,
            order_key=order_key(session.reply_seq),
            origin=reply.origin,
            after=after,
            reply_context=session.reply_context,
            created_at=ctx.now,
            updated_at=ctx.now,
            expire_at=ctx.now + ctx.outbox_ttl,
        )
        records.append(record)
        text = reply.message.body if isinstance(reply.message, TextMessage) else None
        author: Author = "agent" if reply.origin == ReplyOrigin.AGENT else "bot"
        session = session.said(record.id, text, reply.message.kind, author, ctx.now)
        session = session.model_copy(update={"last_reply_id": record.id})
    notes = list(turn.notes)
    if records:
        origins = ",".join(sorted({r.origin.value for r in records}))
        notes.append(Note(AuditKind.REPLY_QUEUED, {"replies": len(records), "origins": origins}))
    event_ref = keys.event_ref(session.channel, source_event_id)
    audit = tuple(
        AuditEntry(
            kind=note.kind,
            at=ctx.now,
            channel=session.channel,
            tenant_id=ctx.tenant_id,
            session_id=session.id,
            event_id=event_ref,
            correlation_id=ctx.correlation_id,
            detail=note.detail,
        )
        for note in notes
    )
    return AppliedTurn(session=session, outbox=tuple(records), audit=audit)


def decision_for(
    before: Session,
    applied: AppliedTurn,
    ctx: DecisionContext,
    *,
    activity: bool = True,
) -> InboundDecision:
    """Everything one transaction saves after a session changed, its handoff record too.
    `activity`: the change restarts the inactivity timer (not for an appointment notice)."""
    seq = before.activity_seq + 1 if activity else before.activity_seq
    session = applied.session.model_copy(update={"activity_seq": seq})
    return InboundDecision(
        session=session.next_version(ctx.now),
        outbox=applied.outbox,
        audit=applied.audit,
        handoff=project(before, session, ctx.now, ctx.outbox_ttl),
    )


def answer_inbox(
    session: Session, flow: ConversationStep, ctx: DecisionContext, awaited: str | None = None
) -> InboundDecision:
    """Answer every ready inbox message (`Session.ready`), in order. Raises
    HoldNotElapsedError when the message `awaited` is still inside its own hold (its task
    came early: it is retried, never dropped). Nothing is ready while a later message of
    the same burst waits: that message's own task answers them together."""
    if awaited is not None and session.waiting(awaited, ctx.now, ctx.hold):
        raise HoldNotElapsedError("message still inside its hold")
    batch = session.ready(ctx.now, ctx.hold, ctx.max_wait)
    if not batch:
        return InboundDecision(session=session)
    before = session
    outbox: list[OutboxRecord] = []
    audit: list[AuditEntry] = []
    turn_ctx = ctx.turn_context()
    for pending in batch:
        message = pending.event
        try:
            turn = flow.respond(session.answered(message), message, turn_ctx)
            applied = apply_turn(turn, message.event_id, ctx)
        except TransientError:
            raise
        except Exception as error:
            # The inbox is answered oldest first: this message would block every later one.
            raise PoisonMessageError(message.message_id, error) from error
        session = applied.session
        outbox.extend(applied.outbox)
        audit.extend(applied.audit)
    batch_turn = AppliedTurn(session=session, outbox=tuple(outbox), audit=tuple(audit))
    return decision_for(before, batch_turn, ctx)
