"""Dead letters: work a task could not finish by its last attempt, kept to be replayed.

Cloud Tasks deletes a task after its last attempt; before the worker gives up, the task's work
becomes a `dead_letters/{id}` document with everything needed to enqueue it again (queue,
target, body). The id comes from stable inputs (queue, task name, and the member of the task
it is about), so a redelivered last attempt finds its dead letter already written.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from atende.domain.keys import stable_hash

#: What kind of work a dead letter holds:
#: - `event`: an inbound event task (admit a message, apply a status, record an event);
#: - `batch`: one event of a batch task (its body is a single-event task);
#: - `answer`: an answer task, or a message taken out of its session's inbox because
#:   answering it kept failing (its body is then the message's event task, which admits it
#:   again);
#: - `idle`: an inactivity timer;
#: - `calendar`: a calendar sync or a calendar change to announce;
#: - `send`: a reply's send task.
DeadLetterKind = Literal["event", "batch", "answer", "idle", "calendar", "send"]


class DeadLetterStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"


def dead_letter_id(queue: str, task_name: str, member: str = "") -> str:
    """Deterministic: one dead letter per (queue, task, member of the task)."""
    return stable_hash("dead_letter", queue, task_name, member)[:40]


def replay_task_name(task_name: str, generation: int) -> str:
    """A new name for a replay (Cloud Tasks refuses a name for about an hour after its task
    ended): the dead task's name with a generation, itself stable. A replay that dies too
    is replayed as `<its name>-replay-<n>`, so no name is ever used twice."""
    return f"{task_name}-replay-{generation}"


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    #: The worker function that gave up, and the task's target (the same function).
    function: str
    kind: DeadLetterKind
    #: "inbound" or "outbound", and the Cloud Tasks queue id the task came from.
    queue: Literal["inbound", "outbound"]
    queue_name: str
    task_name: str
    #: The part of the task it holds (a batch's event, an inbox message), "" for all of it.
    member: str = ""
    target: str
    #: The task body that replays the work (≤ 512 KiB). Holds message text: never logged.
    body: bytes
    tenant_id: str | None = None
    channel: str | None = None
    session_id: str | None = None
    #: The event as logs name it (a hash of its provider id), and the reply, where known.
    event_ref: str | None = None
    outbox_id: str | None = None
    #: The last error's code (an AtendeError code, or "unexpected_error").
    error: str
    attempts: int
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime
    status: DeadLetterStatus = DeadLetterStatus.OPEN
    replayed_at: datetime | None = None
    replay_task_names: tuple[str, ...] = ()
    created_at: datetime
    expire_at: datetime

    def replayed(self, task_name: str, at: datetime) -> DeadLetter:
        names = self.replay_task_names
        if task_name not in names:
            names = (*names, task_name)
        return self.model_copy(
            update={
                "status": DeadLetterStatus.REPLAYED,
                "replayed_at": at,
                "replay_task_names": names,
            }
        )

    @property
    def next_replay_task_name(self) -> str:
        """Stable: the same until this replay is marked, so replaying twice after a crash
        finds the queue refusing the name instead of enqueuing the work twice. Members of
        one task get names of their own."""
        base = f"{self.task_name}-m{self.id[:12]}" if self.member else self.task_name
        return replay_task_name(base, len(self.replay_task_names) + 1)
