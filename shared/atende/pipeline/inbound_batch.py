"""A batch task (events of several deliveries in one task, see inbound_batcher.py): each
event is handled as if it had its own task."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from atende.errors import PermanentError, TransientError
from atende.pipeline.tasks import InboundBatch, InboundTask

logger = logging.getLogger(__name__)


def handle_batch(
    batch: InboundBatch, handle: Callable[[InboundTask, str], str], correlation_id: str
) -> str:
    """`handle` each event with its own correlation id; the outcomes counted
    ("admitted=3,duplicate=1"). A permanent failure is the event's alone (recorded, as for a
    single task); a transient one retries the whole batch once the others are done, and
    those are then found done (dedupe)."""
    outcomes: Counter[str] = Counter()
    retry: TransientError | None = None
    for task in batch.tasks:
        try:
            outcomes[handle(task, task.correlation_id or correlation_id)] += 1
        except TransientError as error:
            retry = retry or error
            outcomes[error.code] += 1
        except PermanentError as error:
            logger.error(
                "permanent failure of a batched event",
                extra={"json_fields": {"outcome": error.code}},
            )
            outcomes[error.code] += 1
    if retry is not None:
        raise retry
    return ",".join(f"{outcome}={count}" for outcome, count in sorted(outcomes.items()))
