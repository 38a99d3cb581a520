"""Which attempt of a Cloud Tasks task a worker is running, from the headers Cloud Tasks sets.

Cloud Tasks adds these headers to every HTTP-target request ("Creating HTTP target tasks",
section "Reading request headers": https://cloud.google.com/tasks/docs/creating-http-target-tasks;
the same fields are documented as Firebase's TaskContext,
https://firebase.google.com/docs/reference/functions/firebase-functions.tasks.taskcontext):

- `X-CloudTasks-QueueName`: the queue's id;
- `X-CloudTasks-TaskName`: the task's short name (our deterministic task id);
- `X-CloudTasks-TaskRetryCount`: how many times the task has been retried, 0 on the first
  attempt (attempts refused with a 5xx before they ran included);
- `X-CloudTasks-TaskExecutionCount`: how many attempts got a response from the handler;
- `X-CloudTasks-TaskETA`: the schedule time of this attempt, in seconds since the epoch.

A queue's `max_attempts` counts the first attempt, and after the last one Cloud Tasks deletes
the task: attempt `retry_count + 1` is the last when it reaches `max_attempts`. A request
without these headers (a direct call, a test) is never the last attempt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

QUEUE_HEADER = "x-cloudtasks-queuename"
TASK_NAME_HEADER = "x-cloudtasks-taskname"
RETRY_COUNT_HEADER = "x-cloudtasks-taskretrycount"
EXECUTION_COUNT_HEADER = "x-cloudtasks-taskexecutioncount"
ETA_HEADER = "x-cloudtasks-tasketa"
#: Set by our Cloud Tasks adapter on every task it creates: when it was enqueued (ISO-8601 UTC).
ENQUEUED_AT_HEADER = "x-atende-enqueued-at"

#: How a replayed task is named: `<original task name>-replay-<generation>`.
_REPLAY = re.compile(r"-replay-(\d+)$")


@dataclass(frozen=True)
class TaskAttempt:
    """One delivery of a task to a worker."""

    #: The Cloud Tasks queue id ("atende-outbound"); empty for a direct call.
    queue: str = ""
    task_name: str = ""
    retry_count: int = 0
    execution_count: int = 0
    #: This attempt's schedule time.
    eta: datetime | None = None
    #: When the task was first enqueued (our own header), if known.
    enqueued_at: datetime | None = None
    #: The queue's max_attempts; None or ≤ 0: unlimited (or unknown).
    max_attempts: int | None = None

    @property
    def number(self) -> int:
        """1 for the first attempt."""
        return self.retry_count + 1

    @property
    def is_last(self) -> bool:
        if not self.task_name or not self.max_attempts or self.max_attempts <= 0:
            return False
        return self.number >= self.max_attempts

    @property
    def first_attempt_at(self) -> datetime | None:
        """When the work was first tried: our enqueue time, else the first attempt's ETA."""
        if self.enqueued_at is not None:
            return self.enqueued_at
        return self.eta if self.retry_count == 0 else None

    @property
    def replay_generation(self) -> int:
        """0 for an original task; n for the n-th replay of a dead letter."""
        found = _REPLAY.search(self.task_name)
        return int(found.group(1)) if found else 0


#: A direct call (no Cloud Tasks headers): never the last attempt.
DIRECT = TaskAttempt()


def _int(value: str | None) -> int:
    try:
        return max(int(value or "0"), 0)
    except ValueError:
        return 0


def _eta(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def attempt_from_headers(
    headers: Mapping[str, str], max_attempts: Callable[[str], int | None]
) -> TaskAttempt:
    """The attempt the request's headers describe; `max_attempts(queue id)` is the queue's
    configured limit (None for a queue we do not know). Header names are case-insensitive
    (pass Starlette's headers, or a lower-cased dict)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    task_name = lowered.get(TASK_NAME_HEADER, "")
    if not task_name:
        return DIRECT
    queue = lowered.get(QUEUE_HEADER, "")
    return TaskAttempt(
        queue=queue,
        task_name=task_name,
        retry_count=_int(lowered.get(RETRY_COUNT_HEADER)),
        execution_count=_int(lowered.get(EXECUTION_COUNT_HEADER)),
        eta=_eta(lowered.get(ETA_HEADER)),
        enqueued_at=_iso(lowered.get(ENQUEUED_AT_HEADER)),
        max_attempts=max_attempts(queue) if queue else None,
    )
