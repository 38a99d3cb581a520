"""Turning a calendar's changes into processing tasks, then moving its sync cursor.

Used by `process_inbound` when a calendar pushes a change notice (Google) and by the polling
job of a calendar without push (Apple CalDAV). The cursor moves only after every change is
enqueued; task ids come from the changes' own ids, so a repeat enqueues nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from atende.domain import keys
from atende.ports import CalendarSync, TaskQueue, TaskRequest
from atende.tasks.contracts import PROCESS_INBOUND, InboundTask


def sync_calendar(
    sync: CalendarSync,
    queue: TaskQueue,
    *,
    tenant_id: str,
    calendar_id: str,
    received_at: datetime,
    correlation_id: str,
) -> int:
    """Enqueue one task per changed appointment; returns how many changed."""
    changes = sync.changes(tenant_id, calendar_id)
    for event in changes.events:
        task = InboundTask(tenant_id=tenant_id, event=event, received_at=received_at)
        queue.enqueue(
            TaskRequest(
                queue="inbound",
                task_id=keys.inbound_task_id(event.channel, event.event_id),
                target=PROCESS_INBOUND,
                body=task.model_dump_json().encode(),
                correlation_id=correlation_id,
            )
        )
    sync.advance(calendar_id, changes.cursor)
    return len(changes.events)
