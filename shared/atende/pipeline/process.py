"""The `process_inbound` use case, in two task kinds:

- an **event** task admits a message to its session's inbox (deduplicated) and schedules an
  **answer** task for when the message's short hold ends; status and other events are
  applied or recorded at once;
- an **answer** task answers the session's ready inbox in (provider time, id) order, in one
  transaction with the dedupe records, replies and audit, then enqueues the unsent replies.

Every step is idempotent, so a crash between any two of them, followed by the queue's
redelivery, ends in exactly one answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError

from atende.conversation.step import ConversationStep
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import (
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageReceived,
    MessageSent,
)
from atende.domain.session import Session
from atende.errors import MalformedPayloadError
from atende.observability.context import bind
from atende.pipeline.inbound_decision import DecisionContext, admit_message, answer_inbox
from atende.pipeline.status_decision import decide_status
from atende.pipeline.tasks import (
    PROCESS_INBOUND,
    PROCESS_TASK,
    SEND_OUTBOUND,
    AnswerTask,
    InboundTask,
    OutboundTask,
)
from atende.ports import Checkpoints, Clock, InboundStore, TaskQueue, TaskRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessingPolicy:
    dedupe_ttl: timedelta
    outbox_ttl: timedelta
    #: How long a message waits before it is answered (see `Session.ready`).
    answer_hold: timedelta


class InboundProcessor:
    def __init__(
        self,
        store: InboundStore,
        queue: TaskQueue,
        flow: ConversationStep,
        clock: Clock,
        checkpoints: Checkpoints,
        policy: ProcessingPolicy,
    ) -> None:
        self._store = store
        self._queue = queue
        self._flow = flow
        self._clock = clock
        self._checkpoints = checkpoints
        self._policy = policy

    def handle(self, body: bytes, correlation_id: str) -> str:
        """Process one task body; returns the outcome (admitted, answered, duplicate, …)."""
        try:
            task = PROCESS_TASK.validate_json(body)
        except ValidationError as error:
            raise MalformedPayloadError("task body is not a processing task") from error
        if isinstance(task, AnswerTask):
            with bind(channel=task.channel, tenant_id=task.tenant_id, session_id=task.session_id):
                return self._logged(self._answer(task, correlation_id), "answer")
        event = task.event
        session = None
        if isinstance(event, MessageReceived):
            if not event.contact_id:
                raise MalformedPayloadError("message without a contact id")
            session = keys.session_id(task.tenant_id, event.channel, event.contact_id)
        event_ref = keys.event_ref(event.channel, event.event_id)
        with bind(
            channel=event.channel, tenant_id=task.tenant_id, event_id=event_ref, session_id=session
        ):
            if isinstance(event, MessageReceived) and session is not None:
                return self._logged(self._admit(task, event, session, correlation_id), event.type)
            return self._logged(self._other(task, event_ref, correlation_id), event.type)

    @staticmethod
    def _logged(outcome: str, event_type: str) -> str:
        logger.info(
            "inbound task handled",
            extra={"json_fields": {"outcome": outcome, "event_type": event_type}},
        )
        return outcome

    def _context(self, tenant_id: str, session: str, correlation_id: str) -> DecisionContext:
        return DecisionContext(
            tenant_id=tenant_id,
            session_id=session,
            now=self._clock.now(),
            outbox_ttl=self._policy.outbox_ttl,
            dedupe_ttl=self._policy.dedupe_ttl,
            hold=self._policy.answer_hold,
            correlation_id=correlation_id,
        )

    def _admit(
        self, task: InboundTask, event: MessageReceived, session: str, correlation_id: str
    ) -> str:
        ctx = self._context(task.tenant_id, session, correlation_id)
        arrived_at = task.received_at or ctx.now
        admission = self._store.admit(
            keys.dedupe_key(event.channel, task.tenant_id, event.event_id),
            session,
            lambda current: admit_message(current, event, arrived_at, ctx),
        )
        if admission != "duplicate":
            # Also on "present": a crash may have come between the admission and this.
            answer = AnswerTask(
                tenant_id=task.tenant_id,
                channel=event.channel,
                session_id=session,
                message_id=event.message_id,
            )
            self._queue.enqueue(
                TaskRequest(
                    queue="inbound",
                    task_id=keys.answer_task_id(session, event.event_id),
                    target=PROCESS_INBOUND,
                    body=answer.model_dump_json().encode(),
                    correlation_id=correlation_id,
                    schedule_at=arrived_at + self._policy.answer_hold,
                )
            )
        return admission

    def _answer(self, task: AnswerTask, correlation_id: str) -> str:
        ctx = self._context(task.tenant_id, task.session_id, correlation_id)
        answered = self._store.answer(
            task.session_id,
            lambda session: answer_inbox(session, self._flow, ctx, awaited=task.message_id),
        )
        if answered is None:
            raise MalformedPayloadError("answer task for a session that does not exist")
        self._checkpoints.reached("process.after_commit")
        self._enqueue_sends(answered, correlation_id)
        return "answered"

    def _enqueue_sends(self, session: Session, correlation_id: str) -> None:
        """Every unsettled reply of the session: the ones just created, and any whose task
        a crash kept from being enqueued (the queue refuses the ones it already has)."""
        for pending in session.outbound_pending:
            self._queue.enqueue(
                TaskRequest(
                    queue="outbound",
                    task_id=keys.outbound_task_id(pending.outbox_id),
                    target=SEND_OUTBOUND,
                    body=OutboundTask(outbox_id=pending.outbox_id).model_dump_json().encode(),
                    correlation_id=correlation_id,
                )
            )

    def _other(self, task: InboundTask, event_ref: str, correlation_id: str) -> str:
        event = task.event
        now = self._clock.now()
        key = keys.dedupe_key(event.channel, task.tenant_id, event.event_id)
        dedupe = DedupeRecord(
            channel=event.channel,
            tenant_id=task.tenant_id,
            event_type=event.type,
            created_at=now,
            expire_at=now + self._policy.dedupe_ttl,
        )
        if isinstance(event, MessageSent | MessageDelivered | MessageRead | MessageFailed):
            applied = self._store.apply_status(
                key,
                dedupe,
                event,
                lambda record: decide_status(record, event, now, task.tenant_id, correlation_id),
            )
            return "status_applied" if applied else "duplicate"
        unsupported = event.type == "unsupported"
        audit = AuditEntry(
            kind=AuditKind.UNSUPPORTED_EVENT if unsupported else AuditKind.DELIVERY_STATUS,
            at=now,
            channel=event.channel,
            tenant_id=task.tenant_id,
            event_id=event_ref,
            correlation_id=correlation_id,
            detail={"event_type": event.type, "reason": getattr(event, "reason", None)},
        )
        recorded = self._store.record_event(key, dedupe, (audit,))
        return f"recorded_{event.type}" if recorded else "duplicate"
