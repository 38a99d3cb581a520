"""The `process_inbound` use case: dedupe, session, conversation step, outbox, audit.

Everything an event changes commits in one transaction; the send tasks are enqueued after
the commit, and a redelivered event re-enqueues the replies that are still unsent, so a
crash between any two steps ends in exactly one reply.
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
from atende.domain.outbox import OutboxRecord, OutboxStatus
from atende.errors import MalformedPayloadError
from atende.observability.context import bind
from atende.pipeline.inbound_decision import DecisionContext, decide_message
from atende.pipeline.status_decision import decide_status
from atende.pipeline.tasks import SEND_OUTBOUND, InboundTask, OutboundTask
from atende.ports import Checkpoints, Clock, InboundStore, TaskQueue, TaskRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessingPolicy:
    dedupe_ttl: timedelta
    outbox_ttl: timedelta
    reply_order_window: timedelta


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
        """Process one task body; returns the outcome (processed, duplicate, …)."""
        try:
            task = InboundTask.model_validate_json(body)
        except ValidationError as error:
            raise MalformedPayloadError("task body is not an inbound task") from error
        event = task.event
        event_ref = keys.event_ref(event.channel, event.event_id)
        with bind(channel=event.channel, tenant_id=task.tenant_id, event_id=event_ref):
            now = self._clock.now()
            key = keys.dedupe_key(event.channel, task.tenant_id, event.event_id)
            dedupe = DedupeRecord(
                channel=event.channel,
                tenant_id=task.tenant_id,
                event_type=event.type,
                created_at=now,
                expire_at=now + self._policy.dedupe_ttl,
            )
            if isinstance(event, MessageReceived):
                return self._message(task.tenant_id, event, key, dedupe, correlation_id)
            if isinstance(event, MessageSent | MessageDelivered | MessageRead | MessageFailed):
                applied = self._store.apply_status(
                    key,
                    dedupe,
                    event,
                    lambda record: decide_status(
                        record, event, now, task.tenant_id, correlation_id
                    ),
                )
                return "status_applied" if applied else "duplicate"
            audit = AuditEntry(
                kind=AuditKind.UNSUPPORTED_EVENT
                if event.type == "unsupported"
                else AuditKind.DELIVERY_STATUS,
                at=now,
                channel=event.channel,
                tenant_id=task.tenant_id,
                event_id=event_ref,
                correlation_id=correlation_id,
                detail={"event_type": event.type, "reason": getattr(event, "reason", None)},
            )
            recorded = self._store.record_event(key, dedupe, (audit,))
            return f"recorded_{event.type}" if recorded else "duplicate"

    def _message(
        self,
        tenant_id: str,
        event: MessageReceived,
        key: str,
        dedupe: DedupeRecord,
        correlation_id: str,
    ) -> str:
        if not event.contact_id:
            raise MalformedPayloadError("message without a contact id")
        session = keys.session_id(tenant_id, event.channel, event.contact_id)
        with bind(session_id=session):
            ctx = DecisionContext(
                tenant_id=tenant_id,
                session_id=session,
                now=self._clock.now(),
                outbox_ttl=self._policy.outbox_ttl,
                correlation_id=correlation_id,
            )
            outcome = self._store.record_message(
                key,
                dedupe,
                session,
                lambda current: decide_message(current, event, self._flow, ctx),
            )
            self._checkpoints.reached("process.after_commit")
            self._enqueue_sends(outcome.outbox, correlation_id)
            return "duplicate" if outcome.duplicate else "processed"

    def _enqueue_sends(self, records: tuple[OutboxRecord, ...], correlation_id: str) -> None:
        schedule_at = self._clock.now() + self._policy.reply_order_window
        for record in records:
            if record.status not in (OutboxStatus.PENDING, OutboxStatus.RETRYING):
                continue
            self._queue.enqueue(
                TaskRequest(
                    queue="outbound",
                    task_id=keys.outbound_task_id(record.id, record.generation),
                    target=SEND_OUTBOUND,
                    body=OutboundTask(outbox_id=record.id).model_dump_json().encode(),
                    correlation_id=correlation_id,
                    schedule_at=schedule_at,
                )
            )
