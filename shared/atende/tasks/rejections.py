"""Records a worker's permanently rejected input, so a 2xx that stops retries loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.task_attempt import DIRECT, TaskAttempt
from atende.errors import PermanentError
from atende.observability.context import current
from atende.ports import AuditLog


def audited(
    handler: Callable[[bytes, str, TaskAttempt], str],
    audit: AuditLog,
    now: Callable[[], datetime],
    worker: str,
) -> Callable[[bytes, str, TaskAttempt], str]:
    def run(body: bytes, correlation_id: str, attempt: TaskAttempt = DIRECT) -> str:
        try:
            return handler(body, correlation_id, attempt)
        except PermanentError as error:
            context = current()
            audit.append(
                AuditEntry(
                    kind=AuditKind.REJECTED_INPUT,
                    at=now(),
                    channel=context.get("channel", "unknown"),
                    tenant_id=context.get("tenant_id"),
                    session_id=context.get("session_id"),
                    event_id=context.get("event_id"),
                    outbox_id=context.get("outbox_id"),
                    correlation_id=correlation_id,
                    detail={"worker": worker, "error": error.code, "body_bytes": len(body)},
                )
            )
            raise

    return run
