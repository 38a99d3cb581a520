"""Pure: may this outbox record be sent now, and what does each outcome do to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.outbox import (
    UNCERTAIN_FAILURES,
    CallOutcome,
    OutboxRecord,
    OutboxStatus,
)
from atende.errors import AtendeError, TransientError
from atende.ports import SendResult


@dataclass(frozen=True)
class SendGate:
    """What sending decided about one reply before calling the provider."""

    #: "send": claimed (status sending); "hold": found mid-send, held for review;
    #: "done": settled already (sent, failed, held, suppressed by an opt-out, dead-lettered).
    action: Literal["send", "done", "hold"]
    record: OutboxRecord | None
    audit: tuple[AuditEntry, ...] = ()


@dataclass(frozen=True)
class SendContext:
    now: datetime
    max_order_wait: timedelta
    correlation_id: str | None = None


def audit_entry(
    record: OutboxRecord, kind: AuditKind, ctx: SendContext, **detail: str | int | bool | None
) -> AuditEntry:
    return AuditEntry(
        kind=kind,
        at=ctx.now,
        channel=record.channel,
        tenant_id=record.tenant_id,
        session_id=record.session_id,
        event_id=keys.event_ref(record.channel, record.inbound_event_id),
        outbox_id=record.id,
        correlation_id=ctx.correlation_id,
        detail=detail,
    )


def decide_send(record: OutboxRecord | None, ctx: SendContext) -> SendGate:
    """What to do with a reply whose turn has come (its predecessor settled). An automated
    reply to a contact who opted out is suppressed by processing, in the transaction that
    records the opt-out (`process_inbound/acting.py`): it arrives here settled."""
    if record is None or record.settled:
        return SendGate(action="done", record=record)
    if record.status == OutboxStatus.SENDING and not definitely_unsent(record):
        # An earlier attempt was cut off mid-send: the provider may have the message. The
        # provider offers no idempotency key, so we hold it rather than risk a double reply.
        # (A record whose last call is known to have failed, with only its outcome left
        # unrecorded, is simply sent again below.)
        held = record.changed(OutboxStatus.NEEDS_REVIEW, at=ctx.now, detail="outcome_unknown")
        return SendGate(
            action="hold",
            record=held,
            audit=(audit_entry(held, AuditKind.REVIEW_REQUIRED, ctx, reason="outcome_unknown"),),
        )
    claimed = record.changed(OutboxStatus.SENDING, at=ctx.now, detail="claimed", last_call=None)
    return SendGate(action="send", record=claimed)


def waits_for(
    record: OutboxRecord, before: OutboxRecord | None, ctx: SendContext
) -> tuple[bool, tuple[AuditEntry, ...]]:
    """Whether `record` must wait for the reply before it (`record.after`); past the
    maximum order wait it goes ahead, with an `order_bypassed` audit entry."""
    if before is None or before.settled:
        return False, ()
    if ctx.now - before.created_at < ctx.max_order_wait:
        return True, ()
    return False, (audit_entry(record, AuditKind.ORDER_BYPASSED, ctx, waited_for=before.id),)


def definitely_unsent(record: OutboxRecord) -> bool:
    """The record's last provider call is known to have sent nothing: refused by the
    provider, or never made."""
    return record.last_call in (CallOutcome.REFUSED, CallOutcome.NOT_CALLED)


def call_outcome(error: AtendeError) -> CallOutcome:
    """What a failed send did at the provider: nothing when no request went out or every
    request was answered with an error; unknown after a timeout or a dropped connection."""
    if not error.attempts:
        return CallOutcome.NOT_CALLED
    failures = error.failures or (error.code,)
    if any(reason in UNCERTAIN_FAILURES for reason in failures):
        return CallOutcome.UNKNOWN
    return CallOutcome.REFUSED


def dead_lettered(record: OutboxRecord, now: datetime, error_code: str) -> OutboxRecord:
    """The send gave up on its last attempt. A record settled meanwhile stays as it is; one
    that may have reached the provider is held for review (a replay must not send it twice);
    any other becomes `dead_lettered` until a replay."""
    if record.settled:
        return record
    if record.status == OutboxStatus.SENDING and not definitely_unsent(record):
        return record.changed(OutboxStatus.NEEDS_REVIEW, at=now, detail="outcome_unknown")
    return record.changed(OutboxStatus.DEAD_LETTERED, at=now, detail=error_code,
                          last_error=error_code)  # fmt: skip


def _failed_tries(record: OutboxRecord, reasons: tuple[str, ...], now: datetime) -> OutboxRecord:
    """One history entry per provider attempt that failed before the final outcome."""
    for reason in reasons:
        record = record.changed(
            OutboxStatus.RETRYING, at=now, detail=reason, attempts=record.attempts + 1
        )
    return record


def sent(record: OutboxRecord, now: datetime, result: SendResult) -> OutboxRecord:
    if record.status == OutboxStatus.SENT:  # a status webhook confirmed it first
        return record.model_copy(update={"attempts": record.attempts + result.attempts})
    tried = _failed_tries(record, result.failures, now)
    return tried.changed(
        OutboxStatus.SENT,
        at=now,
        detail="provider_accepted",
        attempts=tried.attempts + 1,
        provider_message_id=record.provider_message_id or result.provider_message_id,
        last_call=CallOutcome.ACCEPTED,
    )


#: The history detail, audit outcome and log outcome of a reply its tenant's
#: `outbound: dry_run` kept from the provider (tenants/tenant_config.py).
DRY_RUN = "dry_run"


def dry_run_sent(record: OutboxRecord, now: datetime) -> OutboxRecord:
    """A reply built and validated but, by its tenant's configuration, never sent. It
    settles as `sent` (the session's order goes on) with marks no real send has: the last
    history entry's detail is `dry_run`, `last_call` is `not_called`, no provider message id,
    and no provider attempt counted."""
    if record.status == OutboxStatus.SENT:
        return record
    return record.changed(
        OutboxStatus.SENT, at=now, detail=DRY_RUN, last_call=CallOutcome.NOT_CALLED
    )


def is_dry_run(record: OutboxRecord) -> bool:
    """Whether a `sent` record was a dry run (the provider never saw it)."""
    return (
        record.status == OutboxStatus.SENT
        and record.last_call == CallOutcome.NOT_CALLED
        and bool(record.history)
        and record.history[-1].detail == DRY_RUN
    )


def failed(record: OutboxRecord, now: datetime, error: AtendeError) -> OutboxRecord:
    if record.status == OutboxStatus.SENT:  # confirmed by a status webhook meanwhile
        return record
    status = OutboxStatus.RETRYING if isinstance(error, TransientError) else OutboxStatus.FAILED
    tried = _failed_tries(record, error.failures[:-1], now) if error.attempts else record
    return tried.changed(
        status,
        at=now,
        detail=error.code,
        attempts=record.attempts + error.attempts,
        last_error=error.code,
        last_call=call_outcome(error),
    )
