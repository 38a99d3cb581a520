"""A batch task (events of several deliveries in one task, see inbound_batcher.py): each
event is handled as if it had its own task, with an outcome of its own."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from atende.errors import AtendeError, PermanentError
from atende.tasks.contracts import InboundBatch, InboundTask

logger = logging.getLogger(__name__)

#: Records one still-failing event of the batch as its own dead letter.
DeadLetterEvent = Callable[[InboundTask, Exception], None]


def handle_batch(
    batch: InboundBatch,
    handle: Callable[[InboundTask, str], str],
    correlation_id: str,
    dead_letter: DeadLetterEvent | None = None,
) -> str:
    """`handle` each event with its own correlation id; the outcomes counted
    ("admitted=3,duplicate=1"). A permanent failure is the event's alone (recorded, as for a
    single task). Any other failure (transient, or an unexpected exception) never stops the
    events after it: the batch is retried once the others are done (they are then found
    done), and on its last attempt — when `dead_letter` is given — each event that still
    fails becomes its own dead letter instead."""
    outcomes: Counter[str] = Counter()
    failed: list[tuple[InboundTask, Exception]] = []
    for task in batch.tasks:
        try:
            outcomes[handle(task, task.correlation_id or correlation_id)] += 1
        except PermanentError as error:
            logger.error(
                "permanent failure of a batched event",
                extra={"json_fields": {"outcome": error.code}},
            )
            outcomes[error.code] += 1
        except Exception as error:
            code = _code(error)
            logger.warning(
                "a batched event failed; the others go on",
                extra={"json_fields": {"outcome": code, "error_type": type(error).__name__}},
            )
            failed.append((task, error))
            outcomes[code] += 1
    if failed:
        if dead_letter is None:
            raise failed[0][1]
        for member, failure in failed:
            dead_letter(member, failure)
            outcomes[_code(failure)] -= 1
        outcomes["dead_lettered"] += len(failed)
    return ",".join(
        f"{outcome}={count}" for outcome, count in sorted(outcomes.items()) if count > 0
    )


def _code(error: Exception) -> str:
    return error.code if isinstance(error, AtendeError) else "unexpected_error"
