"""What processing and the agent desk write, each in one unit of work: a turn's decision,
a request acted on once (an agent's request, a calendar change), an event recorded once
(a comment, anything unsupported), and a provider's delivery status applied once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.comment import CommentRecord
from atende.domain.decisions import InboundDecision
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import StatusEvent
from atende.domain.outbox import OutboxRecord, OutboxStatus, ReplyOrigin
from atende.domain.session import Session
from atende.ports import UnitOfWork, UnitsOfWork
from atende.process_inbound.statuses import decide_status


@dataclass(frozen=True)
class Written:
    """What one unit of work wrote for a decision: the session as saved, and the replies."""

    session: Session
    outbox: tuple[OutboxRecord, ...]


def write(uow: UnitOfWork, decision: InboundDecision, before: Session | None) -> Written:
    """Everything a decision changed, in the unit of work, between the crash tests'
    checkpoints. A contact who has just opted out gets no more automated replies: this
    turn's and the earlier ones not yet sent are suppressed here, in the same transaction
    (so a send never needs to read the session)."""
    suppressed, outbox = _opt_out(uow, decision, before)
    uow.checkpoint("process.after_dedupe")
    saved = uow.sessions.save(decision.session)
    uow.checkpoint("process.after_session_save")
    for record in outbox:
        uow.outbox.add(record)
    for record in suppressed:
        uow.outbox.save(record)
    uow.checkpoint("process.after_outbox_write")
    uow.audit(decision.audit + tuple(suppression_entry(r) for r in (*suppressed, *outbox)
                                     if r.status == OutboxStatus.SUPPRESSED))  # fmt: skip
    if decision.handoff is not None:
        uow.handoffs.save(decision.handoff)
    return Written(saved, outbox)


#: How far back an opt-out looks for automated replies not yet sent.
MAX_SUPPRESSED = 50


def _opt_out(
    uow: UnitOfWork, decision: InboundDecision, before: Session | None
) -> tuple[list[OutboxRecord], tuple[OutboxRecord, ...]]:
    """For a contact who opted out in this decision: the earlier unsettled automated replies
    (read back along `after`, before any write), suppressed; and this decision's replies,
    its automated ones created suppressed."""
    session = decision.session
    if not session.opted_out:
        return [], decision.outbox
    now = session.updated_at
    outbox = tuple(suppressed(r, now) if r.origin == ReplyOrigin.BOT else r
                   for r in decision.outbox)  # fmt: skip
    if before is None or before.opted_out:
        return [], outbox
    earlier: list[OutboxRecord] = []
    last = before.last_reply_id
    while last is not None and len(earlier) < MAX_SUPPRESSED:
        record = uow.outbox.get(last)
        if record is None or record.settled:
            break
        if record.origin == ReplyOrigin.BOT and record.status == OutboxStatus.PENDING:
            earlier.append(suppressed(record, now))
        last = record.after
    return earlier, outbox


def suppressed(record: OutboxRecord, now: datetime) -> OutboxRecord:
    """An automated reply the contact asked not to get: settled, never sent."""
    return record.changed(OutboxStatus.SUPPRESSED, at=now, detail="opted_out")


def suppression_entry(record: OutboxRecord) -> AuditEntry:
    return AuditEntry(
        kind=AuditKind.SEND_OUTCOME,
        at=record.updated_at,
        channel=record.channel,
        tenant_id=record.tenant_id,
        session_id=record.session_id,
        event_id=keys.event_ref(record.channel, record.inbound_event_id),
        outbox_id=record.id,
        detail={"outcome": "suppressed", "reason": "opted_out"},
    )


@dataclass(frozen=True)
class Acted:
    outcome: Literal["applied", "duplicate", "no_session"]
    #: The session as it is now (None: there is none).
    session: Session | None
    #: What this request wrote (None: nothing, a duplicate or no session).
    written: Written | None = None
    #: When it was committed (the replies' update time).
    at: datetime | None = None


def act_once(
    units: UnitsOfWork,
    key: str,
    dedupe: DedupeRecord,
    session_id: str,
    decide: Callable[[Session], InboundDecision],
) -> Acted:
    """In one unit of work: the session, and whether the request at `key` was done before
    (a duplicate changes nothing); otherwise what `decide` returns, with the dedupe record.
    An error `decide` raises leaves nothing written."""

    def work(uow: UnitOfWork) -> Acted:
        current = uow.sessions.get(session_id)
        if current is None:
            return Acted("no_session", None)
        if uow.dedupe.seen(key):
            return Acted("duplicate", current)
        decision = decide(current)
        written = write(uow, decision, current)
        uow.dedupe.add(key, dedupe)
        return Acted("applied", written.session, written)

    committed = units.run(work)
    return replace(committed.result, at=committed.at)


def record_once(
    units: UnitsOfWork,
    key: str,
    dedupe: DedupeRecord,
    audit: tuple[AuditEntry, ...],
    comment: CommentRecord | None = None,
) -> bool:
    """An event that changes no session, once: its dedupe record, the comment it carries (if
    any) and its audit entries, in one unit of work. False for a duplicate."""

    def work(uow: UnitOfWork) -> bool:
        if uow.dedupe.seen(key):
            return False
        uow.dedupe.add(key, dedupe)
        if comment is not None:
            uow.comments.put(comment)
        uow.audit(audit)
        return True

    return units.run(work).result


def apply_status_once(
    units: UnitsOfWork,
    key: str,
    dedupe: DedupeRecord,
    event: StatusEvent,
    tenant_id: str,
    now: datetime,
    correlation_id: str | None = None,
) -> bool:
    """A provider's delivery status, once: the reply it is about updated (`decide_status`),
    its dedupe record and audit entry, in one unit of work. False for a duplicate."""

    def work(uow: UnitOfWork) -> bool:
        if uow.dedupe.seen(key):
            return False
        record = _status_record(uow, event)
        decision = decide_status(record, event, now, tenant_id, correlation_id)
        uow.dedupe.add(key, dedupe)
        if record is not None and decision.record is not None and decision.record != record:
            uow.outbox.save(decision.record)
        uow.audit(decision.audit)
        return True

    return units.run(work).result


def _status_record(uow: UnitOfWork, event: StatusEvent) -> OutboxRecord | None:
    """The reply a status is about: by the callback data we attached to the send, else by
    the provider's message id."""
    if event.callback_data:
        record = uow.outbox.get(event.callback_data)
        if record is not None and record.channel == event.channel:
            return record
    return uow.outbox.by_provider_message_id(event.channel, event.provider_message_id)
