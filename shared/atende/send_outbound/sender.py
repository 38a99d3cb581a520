"""The `send_outbound` use case: send one outbox record at most once, in session order, then
enqueue the session's next reply (replies are enqueued one at a time, each by the one before).

On the task's last attempt, a send that still fails (the provider down, a reply still waiting
for an earlier one, anything unexpected) becomes a dead letter, and the reply is released from
its session's order (status `dead_lettered`) so the next one goes out: a stuck reply never
holds the conversation."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from pydantic import ValidationError

from atende.domain import keys
from atende.domain.audit import AuditKind
from atende.domain.outbox import OutboxRecord
from atende.domain.session import PendingReply
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
    FinishedSend,
    OutboxStore,
    ProviderSender,
    QueueName,
    SendGate,
    SendResult,
    TenantDirectory,
)
from atende.send_outbound import decisions as send_decision
from atende.send_outbound.decisions import SendContext, audit_entry
from atende.tasks.contracts import OutboundTask
from atende.tasks.dead_letters import DEAD_LETTERED, DeadLetterRecorder, WorkRef, error_code
from atende.tasks.follow_ups import FollowUps

logger = logging.getLogger(__name__)

#: The queues this hop enqueues to: the session's next reply, once this one has settled.
#: atende.deployment grants exactly these to the function, infra/ must match, and the local
#: stack refuses the rest.
ENQUEUES: frozenset[QueueName] = frozenset({"outbound"})


class OutboundSender:
    def __init__(
        self,
        store: OutboxStore,
        senders: Mapping[str, ProviderSender],
        clock: Clock,
        checkpoints: Checkpoints,
        max_order_wait: timedelta,
        follow_ups: FollowUps,
        dead_letters: DeadLetterRecorder | None = None,
        call_notes: CallNotes | None = None,
        *,
        tenants: TenantDirectory | None = None,
        dry_run_senders: Mapping[str, ProviderSender] | None = None,
    ) -> None:
        self._dead_letters = dead_letters
        #: A tenant whose configuration says `outbound: dry_run` (the smoke tenant) has its
        #: replies built and validated by `dry_run_senders`, never sent (tenants/tenant_config.py).
        self._tenants = tenants
        self._dry_run_senders = {} if dry_run_senders is None else dry_run_senders
        self._call_notes = call_notes
        self._follow_ups = follow_ups
        self._store = store
        self._senders = senders
        self._clock = clock
        self._checkpoints = checkpoints
        self._max_order_wait = max_order_wait

    def handle(self, body: bytes, correlation_id: str, attempt: TaskAttempt = DIRECT) -> str:
        try:
            outbox_id = OutboundTask.model_validate_json(body).outbox_id
        except ValidationError as error:
            raise MalformedPayloadError("task body is not an outbound task") from error
        with bind(outbox_id=outbox_id):
            try:
                return self._send(outbox_id, correlation_id)
            except PermanentError:
                raise
            except Exception as error:
                if not attempt.is_last or self._dead_letters is None:
                    raise
                return self._give_up(outbox_id, body, error, attempt, correlation_id)

    def _give_up(
        self,
        outbox_id: str,
        body: bytes,
        error: Exception,
        attempt: TaskAttempt,
        correlation_id: str,
    ) -> str:
        """The last attempt failed: the dead letter first (so nothing is lost whatever
        happens next), then the reply leaves its session's order and the next one is
        enqueued."""
        assert self._dead_letters is not None  # noqa: S101 - checked by the caller
        code = error_code(error)
        record = self._store.get(outbox_id)
        ref = WorkRef(kind="send", outbox_id=outbox_id)
        if record is not None:
            ref = WorkRef(
                kind="send",
                tenant_id=record.tenant_id,
                channel=record.channel,
                session_id=record.session_id,
                event_ref=keys.event_ref(record.channel, record.inbound_event_id),
                outbox_id=outbox_id,
            )
        self._dead_letters.record(attempt, body, ref, code, correlation_id)
        if record is None:
            return DEAD_LETTERED
        with bind(channel=record.channel, tenant_id=record.tenant_id,
                  session_id=record.session_id):  # fmt: skip
            try:
                ctx = self._context(correlation_id)
                entry = audit_entry(
                    record, AuditKind.SEND_OUTCOME, ctx, outcome=DEAD_LETTERED, error=code
                )
                finished = self._store.finish_send(
                    outbox_id,
                    lambda current: send_decision.dead_lettered(current, ctx.now, code),
                    release=True,
                    audit=(entry,),
                )
                self._next_in_order(outbox_id, finished.pending, correlation_id)
            except Exception as release_error:
                # The dead letter is written: its replay settles the reply and hands the
                # turn on (a settled record enqueues the next one).
                logger.error(
                    "a dead-lettered reply could not be released from its session's order",
                    extra={"json_fields": {"outcome": "release_failed",
                                           "error": error_code(release_error)}},
                )  # fmt: skip
        return DEAD_LETTERED

    def _send(self, outbox_id: str, correlation_id: str) -> str:
        gate = self._store.begin_send(
            outbox_id,
            lambda record, session: send_decision.decide_send(
                record, session, self._context(correlation_id)
            ),
        )
        record = gate.record
        fields = (
            {
                "channel": record.channel,
                "tenant_id": record.tenant_id,
                "session_id": record.session_id,
            }
            if record
            else {}
        )
        with bind(**fields):
            outcome = self._act(gate, correlation_id)
            logger.info("outbound task handled", extra={"json_fields": {"outcome": outcome}})
            return outcome

    def _next_in_order(
        self, outbox_id: str, pending: tuple[PendingReply, ...], correlation_id: str
    ) -> None:
        """Enqueue the reply whose turn it is now: the session's first unsettled one once
        this one has left the order; and, when that first one has kept the others waiting
        past the maximum wait, the one after it too (it will go past it)."""
        if not pending:
            return
        head = pending[0]
        if head.outbox_id != outbox_id:
            self._follow_ups.send(head.outbox_id, correlation_id)
        stuck = self._clock.now() - head.queued_at >= self._max_order_wait
        if stuck and len(pending) > 1 and pending[1].outbox_id != outbox_id:
            # The first reply has held the others up too long: the next one goes past it.
            self._follow_ups.send(pending[1].outbox_id, correlation_id)

    def _context(self, correlation_id: str) -> SendContext:
        return SendContext(self._clock.now(), self._max_order_wait, correlation_id)

    def _act(self, gate: SendGate, correlation_id: str) -> str:
        record = gate.record
        if gate.action == "wait":
            raise WaitingForEarlierReplyError("an earlier reply of this session is unsettled")
        if gate.action != "send" or record is None:
            if record is not None:
                self._next_in_order(record.id, gate.pending, correlation_id)
            if gate.action == "done":
                return "unknown_record" if record is None else f"already_{record.status.value}"
            if gate.action == "suppress":
                logger.info("automated reply suppressed: the contact opted out")
                return "suppressed"
            logger.warning("send outcome unknown; held for review")
            return "needs_review"
        sender = self._senders.get(record.channel)
        try:
            if self._dry_run(record):
                self._rehearse(record)
                return self._finish_dry_run(record, correlation_id)
            if sender is None:
                raise PermanentError(f"no sender for channel {record.channel}", code="no_sender")
            result = sender.send(record)
        except (PermanentError, TransientError) as error:
            finished = self._record_failure(record, error, correlation_id)
            self._next_in_order(record.id, finished.pending, correlation_id)
            if isinstance(error, TransientError):
                raise
            return "failed"
        self._checkpoints.reached("outbound.after_provider_accept")
        ctx = self._context(correlation_id)
        entry = audit_entry(
            record, AuditKind.SEND_OUTCOME, ctx, outcome="sent", attempts=result.attempts
        )
        finished = self._store.finish_send(
            record.id,
            lambda current: send_decision.sent(current, ctx.now, result),
            release=True,
            audit=(entry,),
        )
        self._next_in_order(record.id, finished.pending, correlation_id)
        return "sent"

    def _dry_run(self, record: OutboxRecord) -> bool:
        """Whether the record's tenant sends nothing (`outbound: dry_run`). Read inside the
        send's error handling: a store that cannot be read is a transient failure recorded
        as not called, never a send by default."""
        if self._tenants is None:
            return False
        return self._tenants.get(record.tenant_id).outbound == "dry_run"

    def _rehearse(self, record: OutboxRecord) -> SendResult:
        """Build and validate the provider request exactly as a send would; no request."""
        rehearsal = self._dry_run_senders.get(record.channel)
        if rehearsal is None:
            # Never a real send in its place: the tenant asked for none.
            raise PermanentError(f"no dry-run sender for channel {record.channel}",
                                 code="no_sender")  # fmt: skip
        return rehearsal.send(record)

    def _finish_dry_run(self, record: OutboxRecord, correlation_id: str) -> str:
        ctx = self._context(correlation_id)
        entry = audit_entry(record, AuditKind.SEND_OUTCOME, ctx, outcome=send_decision.DRY_RUN)
        logger.info(
            "dry run: the reply was built and validated, and not sent (tenant outbound: dry_run)",
            extra={"json_fields": {"outcome": send_decision.DRY_RUN}},
        )
        finished = self._store.finish_send(
            record.id,
            lambda current: send_decision.dry_run_sent(current, ctx.now),
            release=True,
            audit=(entry,),
        )
        self._next_in_order(record.id, finished.pending, correlation_id)
        return send_decision.DRY_RUN

    def _record_failure(
        self, record: OutboxRecord, error: PermanentError | TransientError, correlation_id: str
    ) -> FinishedSend:
        ctx = self._context(correlation_id)
        permanent = isinstance(error, PermanentError)
        outcome = "failed" if permanent else "retrying"
        fields: dict[str, str] = {"error": error.code}
        if isinstance(error, InvalidOutboundMessageError):
            # Our own words about our own payload (a limit, a missing field): what an
            # operator needs to fix the reply, with no message text in it.
            fields["reason"] = str(error)
        logger.warning("send %s", outcome, extra={"json_fields": fields})
        entry = audit_entry(
            record,
            AuditKind.SEND_OUTCOME,
            ctx,
            outcome=outcome,
            error=error.code,
            attempts=error.attempts,
        )
        try:
            return self._store.finish_send(
                record.id,
                lambda current: send_decision.failed(current, ctx.now, error),
                release=permanent,
                audit=(entry,),
            )
        except TransientError:
            # The outcome could not be recorded (a contended session, say). Note at least what
            # the provider call did, on the record alone: a retry that finds it still
            # `sending` then knows whether the provider may have the message (hold for
            # review) or surely has not (send again).
            self._note_call(record, error, ctx)
            raise

    def _note_call(
        self, record: OutboxRecord, error: PermanentError | TransientError, ctx: SendContext
    ) -> None:
        if self._call_notes is None:
            return
        try:
            self._call_notes.note_call(
                record.id, send_decision.call_outcome(error), error.code, ctx.now
            )
        except Exception as note_error:
            logger.warning(
                "the provider call's outcome could not be noted either",
                extra={"json_fields": {"outcome": error_code(note_error)}},
            )
