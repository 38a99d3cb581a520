"""The `send_outbound` use case: send a session's replies in order, each at most once, from
one task per commit that created them.

A reply is claimed (status `sending`) before its provider call and its outcome recorded
after it, each by one write of the record alone. The task carries the records as their
commit created them and that commit's time, so a claim needs no read: it is written only if
the record is still unchanged since (an update-time precondition). A record that has changed
(a retry, a status webhook, a replay) is read and decided in a unit of work instead. Sends
never read or write the session: a reply waits for the one before it (`OutboxRecord.after`)
by reading that one record, and an opt-out suppresses the replies not yet sent in the
transaction that records it (processing).

On the task's last attempt, each reply that still could not be settled becomes a dead letter
of its own (its replay sends only it), and is marked `dead_lettered` so that the replies
after it no longer wait for it: a stuck reply never holds the conversation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from pydantic import ValidationError

from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.outbox import OutboxRecord
from atende.domain.task_attempt import DIRECT, TaskAttempt
from atende.errors import (
    InvalidOutboundMessageError,
    MalformedPayloadError,
    PermanentError,
    TransientError,
    WaitingForEarlierReplyError,
)
from atende.observability.context import bind
from atende.ports import (
    CallNotes,
    Checkpoints,
    Clock,
    OutboxStore,
    ProviderSender,
    QueueName,
    SendResult,
    TenantDirectory,
    UnitOfWork,
    UnitsOfWork,
)
from atende.send_outbound import decisions as send_decision
from atende.send_outbound.decisions import SendContext, SendGate, audit_entry
from atende.tasks.dead_letters import DEAD_LETTERED, DeadLetterRecorder, WorkRef, error_code
from atende.tasks.outbound_task import OutboundTask

logger = logging.getLogger(__name__)

#: The queues this hop enqueues to: none (a reply waits for the one before it by reading
#: it). atende.deployment grants exactly these to the function, infra/ must match, and the
#: local stack refuses the rest.
ENQUEUES: frozenset[QueueName] = frozenset()

#: How long a reply waits in-process for the one before it (still being sent by another
#: task) before its task is retried by the queue: one read per pause.
ORDER_PAUSES: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8)

#: How far a redelivery's task reads back for unsettled replies.
MAX_WALK_BACK = 50


class OutboundSender:
    def __init__(
        self,
        units: UnitsOfWork,
        store: OutboxStore,
        senders: Mapping[str, ProviderSender],
        clock: Clock,
        checkpoints: Checkpoints,
        max_order_wait: timedelta,
        dead_letters: DeadLetterRecorder | None = None,
        call_notes: CallNotes | None = None,
        *,
        tenants: TenantDirectory | None = None,
        dry_run_senders: Mapping[str, ProviderSender] | None = None,
        order_pauses: tuple[float, ...] = ORDER_PAUSES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._units = units
        self._store = store
        self._dead_letters = dead_letters
        #: A tenant whose configuration says `outbound: dry_run` (the smoke tenant) has its
        #: replies built and validated by `dry_run_senders`, never sent (tenants/config.py).
        self._tenants = tenants
        self._dry_run_senders = {} if dry_run_senders is None else dry_run_senders
        self._call_notes = call_notes
        self._senders = senders
        self._clock = clock
        self._checkpoints = checkpoints
        self._max_order_wait = max_order_wait
        self._order_pauses = order_pauses
        self._sleep = sleep

    def handle(self, body: bytes, correlation_id: str, attempt: TaskAttempt = DIRECT) -> str:
        try:
            task = OutboundTask.model_validate_json(body)
        except ValidationError as error:
            raise MalformedPayloadError("task body is not an outbound task") from error
        with bind(session_id=task.session_id):
            last = self._dead_letters if attempt.is_last else None
            run = _Run(self, task, correlation_id, attempt, last)
            try:
                return run.send_all()
            except PermanentError:
                raise
            except Exception as error:
                if last is None:
                    raise
                return run.give_up(last, error, attempt)

    def _context(self, correlation_id: str) -> SendContext:
        return SendContext(self._clock.now(), self._max_order_wait, correlation_id)


class _Run:
    """One task's replies, in order; what it has settled so far."""

    def __init__(
        self,
        sender: OutboundSender,
        task: OutboundTask,
        correlation_id: str,
        attempt: TaskAttempt,
        last_attempt: DeadLetterRecorder | None,
    ) -> None:
        self._s = sender
        self._task = task
        self._correlation_id = correlation_id
        self._attempt = attempt
        #: On the task's last attempt: where a reply that still fails becomes a dead letter.
        self._last_attempt = last_attempt
        self._settled: set[str] = set()
        self._ids: tuple[str, ...] = task.outbox_ids

    # -- the task ------------------------------------------------------------------------
    def send_all(self) -> str:
        outcomes: list[str] = []
        for record, since in self._replies():
            fields = {"channel": record.channel, "tenant_id": record.tenant_id}
            with bind(outbox_id=record.id, **fields):
                try:
                    outcome = self._send_one(record, since)
                except (PermanentError, WaitingForEarlierReplyError):
                    raise
                except Exception as error:
                    recorder = self._last_attempt
                    if recorder is None:
                        raise
                    # The last attempt: this reply becomes a dead letter and leaves the
                    # order, and the replies after it go on now.
                    self._dead_letter_one(recorder, record.id, error_code(error), self._attempt)
                    self._settled.add(record.id)
                    outcome = DEAD_LETTERED
                logger.info("outbound task handled", extra={"json_fields": {"outcome": outcome}})
                outcomes.append(outcome)
        if not outcomes:
            return "unknown_record"
        return outcomes[0] if len(set(outcomes)) == 1 else ",".join(outcomes)

    def _replies(self) -> list[tuple[OutboxRecord, datetime | None]]:
        """The records in order, each with the update time it is known unchanged since."""
        task = self._task
        if task.records and task.written_at:
            since: datetime = DatetimeWithNanoseconds.from_rfc3339(  # type: ignore[no-untyped-call]
                task.written_at
            )
            return [(record, since) for record in task.records]
        if task.outbox_ids:
            found = [self._s._store.get(outbox_id) for outbox_id in task.outbox_ids]
            return [(record, None) for record in found if record is not None]
        records = self._unsettled_through(task.through)
        self._ids = tuple(record.id for record in records)
        return [(record, None) for record in records]

    def _unsettled_through(self, last: str | None) -> list[OutboxRecord]:
        """`last` and the unsettled replies before it, oldest first: read back along
        `after` until a settled one (at most `MAX_WALK_BACK`)."""
        records: list[OutboxRecord] = []
        while last is not None and len(records) < MAX_WALK_BACK:
            record = self._s._store.get(last)
            if record is None or record.settled:
                break
            records.insert(0, record)
            last = record.after
        return records

    # -- one reply -----------------------------------------------------------------------
    def _send_one(self, record: OutboxRecord, since: datetime | None) -> str:
        ctx = self._s._context(self._correlation_id)
        bypass = self._wait_for_turn(record, ctx)
        gate, claimed_at = self._claim(record, since, ctx, bypass)
        if gate.action == "done":
            if gate.record is not None:
                self._settled.add(gate.record.id)
            return "unknown_record" if gate.record is None else f"already_{gate.record.status}"
        self._settled.add(record.id)
        if gate.action == "hold":
            logger.warning("send outcome unknown; held for review")
            return "needs_review"
        assert gate.record is not None  # noqa: S101 - a claim has its record
        self._settled.discard(record.id)
        outcome = self._call(gate.record, claimed_at)
        self._settled.add(record.id)
        return outcome

    def _wait_for_turn(self, record: OutboxRecord, ctx: SendContext) -> tuple[AuditEntry, ...]:
        """Return once the reply before this one has settled (or has kept this one waiting
        past the maximum order wait: the audit entry that says so); raise
        WaitingForEarlierReplyError when it is still being sent after a few pauses."""
        if record.after is None or record.after in self._settled:
            return ()
        for pause in (*self._s._order_pauses, None):
            before = self._s._store.get(record.after)
            waiting, bypass = send_decision.waits_for(record, before, ctx)
            if not waiting:
                return bypass
            if pause is None:
                break
            self._s._sleep(pause)
            ctx = self._s._context(self._correlation_id)
        raise WaitingForEarlierReplyError("an earlier reply of this session is unsettled")

    def _claim(
        self,
        record: OutboxRecord,
        since: datetime | None,
        ctx: SendContext,
        bypass: tuple[AuditEntry, ...],
    ) -> tuple[SendGate, datetime | None]:
        """Decide and write the claim (or the hold): without a read when
        the record is known unchanged since `since`, else in a unit of work."""
        if since is not None:
            gate = send_decision.decide_send(record, ctx)
            if gate.record is not None and gate.action != "done":
                at = self._s._store.put_if_unchanged(gate.record, since, bypass + gate.audit)
                if at is not None:
                    return gate, at

        def work(uow: UnitOfWork) -> SendGate:
            gate = send_decision.decide_send(uow.outbox.get(record.id), ctx)
            if gate.record is not None and gate.action != "done":
                uow.outbox.save(gate.record)
                uow.audit(bypass + gate.audit)
            return gate

        committed = self._s._units.run(work)
        return committed.result, committed.at

    def _call(self, claimed: OutboxRecord, claimed_at: datetime | None) -> str:
        sender = self._s._senders.get(claimed.channel)
        try:
            if self._dry_run(claimed):
                self._rehearse(claimed)
                return self._finish_dry_run(claimed, claimed_at)
            if sender is None:
                raise PermanentError(f"no sender for channel {claimed.channel}", code="no_sender")
            result = sender.send(claimed)
        except (PermanentError, TransientError) as error:
            self._record_failure(claimed, claimed_at, error)
            if isinstance(error, TransientError):
                raise
            return "failed"
        self._s._checkpoints.reached("outbound.after_provider_accept")
        now = self._s._clock.now()
        self._record(claimed, claimed_at, lambda current: send_decision.sent(current, now, result))
        return "sent"

    def _record(
        self,
        claimed: OutboxRecord,
        claimed_at: datetime | None,
        apply: Callable[[OutboxRecord], OutboxRecord],
        audit: tuple[AuditEntry, ...] = (),
    ) -> OutboxRecord:
        """Record an outcome: on the record as claimed when nothing touched it since the
        claim (no read), else on the freshest stored one (a status webhook may have come)."""
        if claimed_at is not None:
            updated = apply(claimed)
            if self._s._store.put_if_unchanged(updated, claimed_at, audit) is not None:
                return updated

        def work(uow: UnitOfWork) -> OutboxRecord:
            current = uow.outbox.get(claimed.id)
            if current is None:
                raise PermanentError("outbox record vanished", code="outbox_missing")
            updated = apply(current)
            uow.outbox.save(updated)
            uow.audit(audit)
            return updated

        return self._s._units.run(work).result

    def _dry_run(self, record: OutboxRecord) -> bool:
        """Whether the record's tenant sends nothing (`outbound: dry_run`). Read inside the
        send's error handling: a store that cannot be read is a transient failure recorded
        as not called, never a send by default."""
        if self._s._tenants is None:
            return False
        return self._s._tenants.get(record.tenant_id).outbound == "dry_run"

    def _rehearse(self, record: OutboxRecord) -> SendResult:
        """Build and validate the provider request exactly as a send would; no request."""
        rehearsal = self._s._dry_run_senders.get(record.channel)
        if rehearsal is None:
            # Never a real send in its place: the tenant asked for none.
            raise PermanentError(f"no dry-run sender for channel {record.channel}",
                                 code="no_sender")  # fmt: skip
        return rehearsal.send(record)

    def _finish_dry_run(self, claimed: OutboxRecord, claimed_at: datetime | None) -> str:
        ctx = self._s._context(self._correlation_id)
        entry = audit_entry(claimed, AuditKind.SEND_OUTCOME, ctx, outcome=send_decision.DRY_RUN)
        logger.info(
            "dry run: the reply was built and validated, and not sent (tenant outbound: dry_run)",
            extra={"json_fields": {"outcome": send_decision.DRY_RUN}},
        )
        self._record(
            claimed,
            claimed_at,
            lambda current: send_decision.dry_run_sent(current, ctx.now),
            (entry,),
        )
        return send_decision.DRY_RUN

    def _record_failure(
        self,
        claimed: OutboxRecord,
        claimed_at: datetime | None,
        error: PermanentError | TransientError,
    ) -> None:
        ctx = self._s._context(self._correlation_id)
        permanent = isinstance(error, PermanentError)
        outcome = "failed" if permanent else "retrying"
        fields: dict[str, str] = {"error": error.code}
        if isinstance(error, InvalidOutboundMessageError):
            # Our own words about our own payload (a limit, a missing field): what an
            # operator needs to fix the reply, with no message text in it.
            fields["reason"] = str(error)
        logger.warning("send %s", outcome, extra={"json_fields": fields})
        entry = audit_entry(
            claimed,
            AuditKind.SEND_OUTCOME,
            ctx,
            outcome=outcome,
            error=error.code,
            attempts=error.attempts,
        )
        try:
            self._record(
                claimed,
                claimed_at,
                lambda current: send_decision.failed(current, ctx.now, error),
                (entry,),
            )
        except TransientError:
            # The outcome could not be recorded (a contended record, say). Note at least what
            # the provider call did, on the record alone: a retry that finds it still
            # `sending` then knows whether the provider may have the message (hold for
            # review) or surely has not (send again).
            self._note_call(claimed, error, ctx)
            raise

    def _note_call(
        self, record: OutboxRecord, error: PermanentError | TransientError, ctx: SendContext
    ) -> None:
        notes = self._s._call_notes
        if notes is None:
            return
        try:
            notes.note_call(record.id, send_decision.call_outcome(error), error.code, ctx.now)
        except Exception as note_error:
            logger.warning(
                "the provider call's outcome could not be noted either",
                extra={"json_fields": {"outcome": error_code(note_error)}},
            )

    # -- the last attempt ----------------------------------------------------------------
    def give_up(self, recorder: DeadLetterRecorder, error: Exception, attempt: TaskAttempt) -> str:
        """The last attempt failed: each reply this task has not settled becomes a dead
        letter of its own first (so nothing is lost whatever happens next), then leaves the
        order (`dead_lettered`) so that the replies after it go on."""
        code = error_code(error)
        unsettled = [outbox_id for outbox_id in self._ids if outbox_id not in self._settled]
        if not unsettled and not self._ids:
            body = self._task.model_dump_json().encode()
            recorder.record(attempt, body, WorkRef(kind="send", session_id=self._task.session_id),
                            code, self._correlation_id)  # fmt: skip
            return DEAD_LETTERED
        for outbox_id in unsettled:
            self._dead_letter_one(recorder, outbox_id, code, attempt)
        return DEAD_LETTERED

    def _dead_letter_one(
        self, recorder: DeadLetterRecorder, outbox_id: str, code: str, attempt: TaskAttempt
    ) -> None:
        record = self._s._store.get(outbox_id)
        body = OutboundTask(session_id=self._task.session_id, outbox_ids=(outbox_id,))
        ref = WorkRef(kind="send", session_id=self._task.session_id, outbox_id=outbox_id,
                      member=outbox_id if len(self._ids) > 1 else "")  # fmt: skip
        if record is not None:
            ref = WorkRef(
                kind="send",
                tenant_id=record.tenant_id,
                channel=record.channel,
                session_id=record.session_id,
                event_ref=keys.event_ref(record.channel, record.inbound_event_id),
                outbox_id=outbox_id,
                member=ref.member,
            )
        recorder.record(attempt, body.model_dump_json().encode(), ref, code, self._correlation_id)
        if record is None or record.settled:
            return
        with bind(outbox_id=outbox_id, channel=record.channel, tenant_id=record.tenant_id):
            try:
                ctx = self._s._context(self._correlation_id)
                entry = audit_entry(
                    record, AuditKind.SEND_OUTCOME, ctx, outcome=DEAD_LETTERED, error=code
                )
                self._record(
                    record,
                    None,
                    lambda current: send_decision.dead_lettered(current, ctx.now, code),
                    (entry,),
                )
            except Exception as release_error:
                # The dead letter is written: its replay settles the reply, and the replies
                # after it go past it once it has kept them waiting too long.
                logger.error(
                    "a dead-lettered reply could not be marked as such",
                    extra={"json_fields": {"outcome": "release_failed",
                                           "error": error_code(release_error)}},
                )  # fmt: skip
