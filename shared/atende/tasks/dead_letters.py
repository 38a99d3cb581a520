"""Dead letters: what a worker does on a task's last attempt, and how an operator replays.

Cloud Tasks deletes a task after its last attempt (`max_attempts`, which counts the first).
Before that happens, work that still fails (a transient error, or an unexpected exception) is
recorded as a `dead_letters/{id}` document and the worker answers 2xx (`dead_lettered`); the
work is then listed and replayed with `atende dead-letters`. Replays go out under new task
names, and the original idempotency keys (dedupe records, outbox ids) keep their effect
exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.dead_letter import DeadLetter, DeadLetterKind, dead_letter_id
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    CalendarSyncRequested,
    MessageReceived,
)
from atende.domain.task_attempt import DIRECT, TaskAttempt
from atende.errors import AtendeError, PermanentError
from atende.observability.context import bind
from atende.ports import Clock, DeadLetterStore, QueueName, TaskQueue, TaskRequest
from atende.tasks.contracts import (
    PROCESS_TASK,
    AnswerTask,
    InboundBatch,
    InboundTask,
)
from atende.tasks.outbound_task import OutboundTask

logger = logging.getLogger(__name__)

#: A worker use case: (task body, correlation id, the attempt) → outcome.
Worker = Callable[[bytes, str, TaskAttempt], str]

DEAD_LETTERED = "dead_lettered"
#: How the one log line per new dead letter reads (the `atende/dead_letters` metric).
LOG_MESSAGE = "dead letter recorded"


def error_code(error: BaseException) -> str:
    return error.code if isinstance(error, AtendeError) else "unexpected_error"


@dataclass(frozen=True)
class WorkRef:
    """What a dead letter says about the work it holds (ids only, never content)."""

    kind: DeadLetterKind
    tenant_id: str | None = None
    channel: str | None = None
    session_id: str | None = None
    event_ref: str | None = None
    outbox_id: str | None = None
    #: Which part of the task it is (a batch's event, an inbox message); "" for all of it.
    member: str = ""


def inbound_ref(task: InboundTask, kind: DeadLetterKind | None = None) -> WorkRef:
    event = task.event
    session = None
    if isinstance(event, MessageReceived) and event.contact_id:
        session = keys.session_id(task.tenant_id, event.channel, event.contact_id)
    calendar = isinstance(
        event,
        CalendarSyncRequested
        | CalendarEventCreated
        | CalendarEventUpdated
        | CalendarEventCancelled,
    )
    return WorkRef(
        kind=kind or ("calendar" if calendar else "event"),
        tenant_id=task.tenant_id,
        channel=event.channel,
        session_id=session,
        event_ref=keys.event_ref(event.channel, event.event_id),
    )


def describe_inbound(body: bytes) -> WorkRef:
    """The refs of a process_inbound task body (a body we cannot read: kind "event")."""
    try:
        task = PROCESS_TASK.validate_json(body)
    except ValidationError:
        return WorkRef(kind="event")
    if isinstance(task, InboundTask):
        return inbound_ref(task)
    if isinstance(task, InboundBatch):
        return WorkRef(kind="batch", tenant_id=task.tasks[0].tenant_id)
    kind: DeadLetterKind = "answer" if isinstance(task, AnswerTask) else "idle"
    return WorkRef(
        kind=kind, tenant_id=task.tenant_id, channel=task.channel, session_id=task.session_id
    )


def describe_outbound(body: bytes) -> WorkRef:
    try:
        task = OutboundTask.model_validate_json(body)
    except ValidationError:
        return WorkRef(kind="send")
    single = task.outbox_ids[0] if len(task.outbox_ids) == 1 else None
    return WorkRef(kind="send", session_id=task.session_id, outbox_id=single)


class DeadLetterRecorder:
    """Writes a worker's dead letters (one function, one queue)."""

    def __init__(
        self,
        store: DeadLetterStore,
        clock: Clock,
        function: str,
        queue: QueueName,
        ttl: timedelta,
    ) -> None:
        self._store = store
        self._clock = clock
        self._function = function
        self._queue: QueueName = queue
        self._ttl = ttl

    def letter(
        self, attempt: TaskAttempt, body: bytes, ref: WorkRef, error: str, at: datetime
    ) -> DeadLetter:
        return DeadLetter(
            id=dead_letter_id(attempt.queue, attempt.task_name, ref.member),
            function=self._function,
            kind=ref.kind,
            queue=self._queue,
            queue_name=attempt.queue,
            task_name=attempt.task_name,
            member=ref.member,
            target=self._function,
            body=body,
            tenant_id=ref.tenant_id,
            channel=ref.channel,
            session_id=ref.session_id,
            event_ref=ref.event_ref,
            outbox_id=ref.outbox_id,
            error=error,
            attempts=attempt.number,
            first_attempt_at=attempt.first_attempt_at,
            last_attempt_at=at,
            created_at=at,
            expire_at=at + self._ttl,
        )

    def _audit(self, letter: DeadLetter, correlation_id: str) -> tuple[AuditEntry, ...]:
        # An operator must look at it: the existing kind for that, with the reason.
        return (
            AuditEntry(
                kind=AuditKind.REVIEW_REQUIRED,
                at=letter.created_at,
                channel=letter.channel or "unknown",
                tenant_id=letter.tenant_id,
                session_id=letter.session_id,
                event_id=letter.event_ref,
                outbox_id=letter.outbox_id,
                correlation_id=correlation_id,
                detail={
                    "reason": DEAD_LETTERED,
                    "dead_letter_id": letter.id,
                    "kind": letter.kind,
                    "error": letter.error,
                    "attempts": letter.attempts,
                },
            ),
        )

    def record(
        self, attempt: TaskAttempt, body: bytes, ref: WorkRef, error: str, correlation_id: str
    ) -> DeadLetter:
        letter = self.letter(attempt, body, ref, error, self._clock.now())
        created = self._store.record(letter, self._audit(letter, correlation_id))
        self._log(letter, created)
        return letter

    def quarantine(
        self,
        attempt: TaskAttempt,
        body: bytes,
        ref: WorkRef,
        error: str,
        message_id: str,
        correlation_id: str,
    ) -> DeadLetter:
        """Take an inbox message that keeps failing into a dead letter (one transaction)."""
        letter = self.letter(attempt, body, ref, error, self._clock.now())
        assert ref.session_id is not None  # noqa: S101 - a message's work has a session
        moved = self._store.quarantine(
            letter, ref.session_id, message_id, self._audit(letter, correlation_id)
        )
        self._log(letter, moved)
        return letter

    @staticmethod
    def _log(letter: DeadLetter, created: bool) -> None:
        fields = {
            "channel": letter.channel,
            "tenant_id": letter.tenant_id,
            "session_id": letter.session_id,
            "event_id": letter.event_ref,
            "outbox_id": letter.outbox_id,
        }
        with bind(**{key: value for key, value in fields.items() if value is not None}):
            if not created:
                logger.info(
                    "dead letter already recorded",
                    extra={"json_fields": {"outcome": "dead_letter_exists",
                                           "dead_letter_id": letter.id}},
                )  # fmt: skip
                return
            logger.error(
                LOG_MESSAGE,
                extra={
                    "json_fields": {
                        "outcome": DEAD_LETTERED,
                        "error": letter.error,
                        "kind": letter.kind,
                        "function": letter.function,
                        "dead_letter_id": letter.id,
                        "attempts": letter.attempts,
                    }
                },
            )


def dead_lettering(
    handler: Worker, recorder: DeadLetterRecorder, describe: Callable[[bytes], WorkRef]
) -> Worker:
    """On a task's last attempt, work that still fails (anything but a permanent, recorded
    failure) becomes a dead letter and the task ends with `dead_lettered`; before it, the
    failure is raised for the queue to retry."""

    def run(body: bytes, correlation_id: str, attempt: TaskAttempt = DIRECT) -> str:
        try:
            return handler(body, correlation_id, attempt)
        except PermanentError:
            raise
        except Exception as error:
            if not attempt.is_last:
                raise
            try:
                recorder.record(attempt, body, describe(body), error_code(error), correlation_id)
            except Exception:
                logger.exception(
                    "dead letter could not be recorded: the task's work is lost",
                    extra={"json_fields": {"outcome": "dead_letter_lost",
                                           "error": error_code(error)}},
                )  # fmt: skip
                raise
            return DEAD_LETTERED

    return run


# -- replay ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    task_name: str
    #: False when the queue already had a task of that name (a replay run twice).
    enqueued: bool


class DeadLetterReplayer:
    """Enqueues dead letters again, under new task names, and marks them replayed."""

    def __init__(self, store: DeadLetterStore, queue: TaskQueue, clock: Clock) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock

    def replay(self, letter: DeadLetter, correlation_id: str) -> Replayed:
        task_name = letter.next_replay_task_name
        now = self._clock.now()
        if letter.kind == "send" and letter.outbox_id:
            # Sendable again before its task can run (a dead-lettered record is settled).
            self._store.rearm_send(letter.outbox_id, now)
        enqueued = self._queue.enqueue(
            TaskRequest(
                queue=letter.queue,
                task_id=task_name,
                target=letter.target,
                body=letter.body,
                correlation_id=correlation_id,
            )
        )
        marked = self._store.mark_replayed(letter.id, task_name, now)
        logger.info(
            "dead letter replayed",
            extra={"json_fields": {"outcome": "dead_letter_replayed", "dead_letter_id": letter.id,
                                   "kind": letter.kind}},
        )  # fmt: skip
        return Replayed(marked or letter.replayed(task_name, now), task_name, enqueued)
