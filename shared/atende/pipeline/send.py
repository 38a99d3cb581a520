"""The `send_outbound` use case: send one outbox record at most once, in session order, then
enqueue the session's next reply (replies are enqueued one at a time, each by the one before)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from pydantic import ValidationError

from atende.domain.audit import AuditKind
from atende.domain.outbox import OutboxRecord
from atende.domain.session import PendingReply
from atende.errors import (
    InvalidOutboundMessageError,
    MalformedPayloadError,
    PermanentError,
    TransientError,
    WaitingForEarlierReplyError,
)
from atende.observability.context import bind
from atende.pipeline import send_decision
from atende.pipeline.follow_ups import FollowUps
from atende.pipeline.send_decision import SendContext, audit_entry
from atende.pipeline.tasks import OutboundTask
from atende.ports import Checkpoints, Clock, FinishedSend, OutboxStore, ProviderSender, SendGate

logger = logging.getLogger(__name__)


class OutboundSender:
    def __init__(
        self,
        store: OutboxStore,
        senders: Mapping[str, ProviderSender],
        clock: Clock,
        checkpoints: Checkpoints,
        max_order_wait: timedelta,
        follow_ups: FollowUps,
    ) -> None:
        self._follow_ups = follow_ups
        self._store = store
        self._senders = senders
        self._clock = clock
        self._checkpoints = checkpoints
        self._max_order_wait = max_order_wait

    def handle(self, body: bytes, correlation_id: str) -> str:
        try:
            outbox_id = OutboundTask.model_validate_json(body).outbox_id
        except ValidationError as error:
            raise MalformedPayloadError("task body is not an outbound task") from error
        with bind(outbox_id=outbox_id):
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
        return self._store.finish_send(
            record.id,
            lambda current: send_decision.failed(current, ctx.now, error),
            release=permanent,
            audit=(entry,),
        )
