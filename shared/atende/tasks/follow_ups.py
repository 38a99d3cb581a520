"""The tasks a committed turn leads to: its replies' sends and the inactivity timer.

Both are enqueued after the commit under deterministic task ids, so enqueuing them again
after a crash or a redelivery is harmless: the queue refuses the ones it has.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from atende.domain import keys
from atende.domain.session import Session
from atende.ports import TaskQueue, TaskRequest
from atende.tasks.contracts import PROCESS_INBOUND, SEND_OUTBOUND, IdleTask, OutboundTask


class FollowUps:
    def __init__(self, queue: TaskQueue) -> None:
        self._queue = queue

    def sends(self, session: Session, correlation_id: str) -> None:
        """The session's first unsettled reply (just created, or one whose task a crash kept
        from being enqueued). Each later one is enqueued by send_outbound when the one
        before it settles, so no reply's task spins waiting for its turn."""
        if session.outbound_pending:
            self.send(session.outbound_pending[0].outbox_id, correlation_id)

    def send(self, outbox_id: str, correlation_id: str) -> None:
        self._queue.enqueue(
            TaskRequest(
                queue="outbound",
                task_id=keys.outbound_task_id(outbox_id),
                target=SEND_OUTBOUND,
                body=OutboundTask(outbox_id=outbox_id).model_dump_json().encode(),
                correlation_id=correlation_id,
            )
        )

    def idle_timer(
        self, session: Session, now: datetime, timeout_seconds: int, correlation_id: str
    ) -> None:
        """Close the session after `timeout_seconds` unless something happens before."""
        idle = IdleTask(
            tenant_id=session.tenant_id,
            channel=session.channel,
            session_id=session.id,
            activity_seq=session.activity_seq,
            due_at=now + timedelta(seconds=timeout_seconds),
        )
        self._queue.enqueue(
            TaskRequest(
                queue="inbound",
                task_id=keys.idle_task_id(session.id, session.activity_seq),
                target=PROCESS_INBOUND,
                body=idle.model_dump_json().encode(),
                correlation_id=correlation_id,
                schedule_at=idle.due_at,
            )
        )
