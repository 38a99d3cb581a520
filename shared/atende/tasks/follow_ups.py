"""The tasks a committed turn leads to: its replies' send and the inactivity timer.

Both are enqueued after the commit under deterministic task ids, so enqueuing them again
after a crash or a redelivery is harmless: the queue refuses the ones it has.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atende.domain import keys
from atende.domain.outbox import OutboxRecord
from atende.domain.session import Session
from atende.ports import TaskQueue, TaskRequest
from atende.tasks.contracts import PROCESS_INBOUND, SEND_OUTBOUND, IdleTask
from atende.tasks.outbound_task import OutboundTask

#: A send task carries its records while its body stays under this (Cloud Tasks: 1 MB).
MAX_CARRIED_BYTES = 512 * 1024


def _rfc3339(at: datetime | None) -> str | None:
    """An update time as Firestore compares it: to the nanosecond when it has them."""
    if at is None:
        return None
    rfc3339 = getattr(at, "rfc3339", None)
    if callable(rfc3339):
        return str(rfc3339())
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FollowUps:
    def __init__(self, queue: TaskQueue) -> None:
        self._queue = queue

    def replies(
        self, records: tuple[OutboxRecord, ...], written_at: datetime | None, correlation_id: str
    ) -> None:
        """One task for the replies one commit created, in order, named after the last: it
        carries them as created and the commit's time, so each is claimed without a read
        (a body too big for a task carries the ids alone)."""
        if not records:
            return
        stamp = _rfc3339(written_at)
        task = OutboundTask(
            session_id=records[0].session_id,
            outbox_ids=tuple(record.id for record in records),
            records=records if stamp else (),
            written_at=stamp,
        )
        body = task.model_dump_json().encode()
        if len(body) > MAX_CARRIED_BYTES:
            ids_only = task.model_copy(update={"records": (), "written_at": None})
            body = ids_only.model_dump_json().encode()
        self._enqueue(records[-1].id, body, correlation_id)

    def unsettled(self, session: Session, correlation_id: str) -> None:
        """A redelivery found its work committed: a crash may have come before the send
        task was enqueued. The session's unsettled replies, under the name the last one's
        task had (the queue refuses it while it has it; the send skips settled replies)."""
        if session.last_reply_id is None:
            return
        task = OutboundTask(session_id=session.id, through=session.last_reply_id)
        self._enqueue(session.last_reply_id, task.model_dump_json().encode(), correlation_id)

    def reply(self, session_id: str, outbox_id: str, correlation_id: str) -> None:
        """One reply, read before it is sent."""
        task = OutboundTask(session_id=session_id, outbox_ids=(outbox_id,))
        self._enqueue(outbox_id, task.model_dump_json().encode(), correlation_id)

    def _enqueue(self, last_outbox_id: str, body: bytes, correlation_id: str) -> None:
        self._queue.enqueue(
            TaskRequest(
                queue="outbound",
                task_id=keys.outbound_task_id(last_outbox_id),
                target=SEND_OUTBOUND,
                body=body,
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
