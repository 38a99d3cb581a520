"""The `process_inbound` use case, in three task kinds:

- an **event** task admits a message to its session's inbox (deduplicated) and schedules an
  **answer** task for when the message's short hold ends; status and other events are
  applied or recorded at once;
- an **answer** task answers the session's ready inbox in (provider time, id) order through
  the conversation engine, in one transaction with the dedupe records, replies, audit and
  handoff record, then enqueues the unsent replies and the session's inactivity timer;
- an **idle** task closes the session when nothing happened since its timer was set.

On a task's last attempt, work that still fails becomes a dead letter (tasks/dead_letters.py;
for a batch, each failing event on its own). An inbox message whose answer keeps failing for
a reason retrying cannot fix is taken out of the inbox into a dead letter after a few attempts
(`poison_after_attempts`), so the messages after it are answered.

Every step is idempotent, so a crash between any two of them, followed by the queue's
redelivery, ends in exactly one answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError

from atende.conversation.idle import close_if_idle
from atende.conversation.step import ConversationStep
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.comment import comment_record
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarEventCreated,
    CalendarEventUpdated,
    CalendarSyncRequested,
    CommentReceived,
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageReceived,
    MessageSent,
    ReactionReceived,
    UnsupportedEvent,
    VideoPublished,
)
from atende.domain.session import Session
from atende.domain.task_attempt import DIRECT, TaskAttempt
from atende.errors import MalformedPayloadError
from atende.observability.context import bind
from atende.ports import (
    Checkpoints,
    Clock,
    QueueName,
    TaskQueue,
    TaskRequest,
    UnitOfWork,
    UnitsOfWork,
)
from atende.process_inbound.acting import Written, apply_status_once, record_once, write
from atende.process_inbound.ai_plan import RecordingSuggester, ReplaySuggester, log_fallbacks
from atende.process_inbound.batch import handle_batch
from atende.process_inbound.calendar_events import CalendarEvents
from atende.process_inbound.conversation_deps import ConversationDeps
from atende.process_inbound.decisions import (
    DEFAULT_TEXT_LIMIT,
    DecisionContext,
    HoldNotElapsedError,
    PoisonMessageError,
    admit_message,
    answer_inbox,
    apply_turn,
    decision_for,
)
from atende.process_inbound.settings import ProcessingSettings
from atende.tasks.contracts import (
    PROCESS_INBOUND,
    PROCESS_TASK,
    AnswerTask,
    IdleTask,
    InboundBatch,
    InboundTask,
)
from atende.tasks.dead_letters import DeadLetterRecorder, WorkRef, error_code, inbound_ref
from atende.tasks.follow_ups import FollowUps

logger = logging.getLogger(__name__)

#: The queues this hop enqueues to: answer and idle tasks (inbound), a turn's first reply
#: (outbound). atende.deployment grants exactly these to the function, infra/ must match,
#: and the local stack refuses the rest.
ENQUEUES: frozenset[QueueName] = frozenset({"inbound", "outbound"})

#: How events that change no session are named in the audit trail.
_RECORDED_KINDS: dict[type, AuditKind] = {
    UnsupportedEvent: AuditKind.UNSUPPORTED_EVENT,
    ReactionReceived: AuditKind.REACTION,
    CommentReceived: AuditKind.COMMENT,
    VideoPublished: AuditKind.CONTENT_PUBLISHED,
}

#: At most this many messages are taken out of one inbox by one answer attempt.
_MAX_QUARANTINES = 10


class InboundProcessor:
    def __init__(
        self,
        units: UnitsOfWork,
        queue: TaskQueue,
        flow: ConversationStep,
        clock: Clock,
        checkpoints: Checkpoints,
        policy: ProcessingSettings,
        conversation: ConversationDeps,
        dead_letters: DeadLetterRecorder | None = None,
        poison_after_attempts: int = 3,
    ) -> None:
        self._dead_letters = dead_letters
        self._poison_after = poison_after_attempts
        self._units = units
        self._queue = queue
        self._flow = flow
        self._clock = clock
        self._checkpoints = checkpoints
        self._policy = policy
        self._conversation = conversation
        self._follow_ups = FollowUps(queue)
        self._calendar = CalendarEvents(
            units,
            queue,
            self._follow_ups,
            clock,
            policy,
            conversation.calendars,
            self._context,
        )

    def handle(self, body: bytes, correlation_id: str, attempt: TaskAttempt = DIRECT) -> str:
        """Process one task body; returns the outcome (admitted, answered, duplicate, …)."""
        try:
            task = PROCESS_TASK.validate_json(body)
        except ValidationError as error:
            raise MalformedPayloadError("task body is not a processing task") from error
        if isinstance(task, AnswerTask | IdleTask):
            with bind(channel=task.channel, tenant_id=task.tenant_id, session_id=task.session_id):
                if isinstance(task, IdleTask):
                    return self._logged(self._idle(task, correlation_id), "idle")
                return self._logged(self._answer(task, correlation_id, attempt), "answer")
        if isinstance(task, InboundBatch):
            return handle_batch(
                task,
                lambda member, corr: self._event(member, corr, attempt),
                correlation_id,
                self._batch_dead_letter(attempt, correlation_id),
            )
        return self._event(task, task.correlation_id or correlation_id, attempt)

    def _batch_dead_letter(
        self, attempt: TaskAttempt, correlation_id: str
    ) -> Callable[[InboundTask, Exception], None] | None:
        """On the batch's last attempt: each event that still fails becomes its own dead
        letter, whose body is a single-event task (a replay re-runs only that event)."""
        recorder = self._dead_letters
        if recorder is None or not attempt.is_last:
            return None

        def record(task: InboundTask, error: Exception) -> None:
            ref = replace(
                inbound_ref(task, "batch"),
                member=f"{task.event.channel}:{task.event.event_id}",
            )
            body = task.model_dump_json().encode()
            recorder.record(attempt, body, ref, error_code(error), correlation_id)

        return record

    def _event(self, task: InboundTask, correlation_id: str, attempt: TaskAttempt = DIRECT) -> str:
        event = task.event
        session = None
        if isinstance(event, MessageReceived):
            if not event.contact_id:
                raise MalformedPayloadError("message without a contact id")
            session = keys.session_id(task.tenant_id, event.channel, event.contact_id)
        event_ref = keys.event_ref(event.channel, event.event_id)
        with bind(
            channel=event.channel, tenant_id=task.tenant_id, event_id=event_ref, session_id=session
        ):
            if isinstance(event, MessageReceived) and session is not None:
                admitted = self._admit(task, event, session, correlation_id, attempt)
                return self._logged(admitted, event.type)
            if isinstance(event, CalendarSyncRequested):
                return self._logged(self._calendar.sync(task, event, correlation_id), event.type)
            if isinstance(
                event, CalendarEventCreated | CalendarEventUpdated | CalendarEventCancelled
            ):
                return self._logged(
                    self._calendar.announce(task, event, correlation_id), event.type
                )
            return self._logged(self._other(task, event_ref, correlation_id), event.type)

    @staticmethod
    def _logged(outcome: str, event_type: str) -> str:
        logger.info(
            "inbound task handled",
            extra={"json_fields": {"outcome": outcome, "event_type": event_type}},
        )
        return outcome

    def _context(
        self, tenant_id: str, session: str, correlation_id: str, channel: str | None = None
    ) -> DecisionContext:
        deps = self._conversation
        return DecisionContext(
            tenant_id=tenant_id,
            session_id=session,
            now=self._clock.now(),
            outbox_ttl=self._policy.outbox_ttl,
            dedupe_ttl=self._policy.dedupe_ttl,
            hold=self._policy.answer_hold,
            max_wait=self._policy.answer_max_wait,
            correlation_id=correlation_id,
            tenant=deps.tenants.get(tenant_id) if channel else DecisionContext.tenant,
            text_limit=deps.text_limit(channel) if channel else DEFAULT_TEXT_LIMIT,
            ai_history_chars=deps.ai.history_chars if deps.ai else 0,
            ai_model=deps.ai.model if deps.ai else None,
        )

    def _admit(
        self,
        task: InboundTask,
        event: MessageReceived,
        session_id: str,
        correlation_id: str,
        attempt: TaskAttempt = DIRECT,
    ) -> str:
        """Admit the message to its session's inbox, in one unit of work. When its hold has
        already passed (a task that waited in the queue, a redelivery, a replay), the inbox
        is answered in that same unit of work: no answer task, one session write."""
        ctx = self._context(task.tenant_id, session_id, correlation_id, event.channel)
        arrived_at = task.received_at or ctx.now
        answer_now = self._conversation.ai is None or not ctx.tenant.ai.enabled

        def work(uow: UnitOfWork) -> tuple[str, Written | None, Session | None]:
            current = uow.sessions.get(session_id)
            admitted = admit_message(current, event, arrived_at, ctx)
            if admitted is None:
                assert current is not None  # noqa: S101 - admit_message only refuses a known one
                known = "present" if current.pending(event.message_id) else "duplicate"
                return known, None, current
            if answer_now and admitted.ready(ctx.now, ctx.hold, ctx.max_wait):
                try:
                    decision = answer_inbox(admitted, self._flow, ctx)
                except Exception:
                    decision = None  # the answer task answers it, or quarantines it
                if decision is not None:
                    written = write(uow, decision, current)
                    return "answered", written, written.session
            uow.sessions.save(admitted)
            uow.checkpoint("process.after_admit")
            return "admitted", None, None

        committed = self._units.run(work)
        admission, written, session = committed.result
        if written is not None:
            self._checkpoints.reached("process.after_commit")
            self._after_answer(written, committed.at, ctx, correlation_id)
            if not written.session.pending(event.message_id):
                return admission
        if admission == "duplicate":
            if session is not None:
                # Answered already, maybe by its own admission: a crash may have come
                # between that commit and the send task.
                self._follow_ups.unsettled(session, correlation_id)
            return admission
        # Also on "present": a crash may have come between the admission and this.
        answer = AnswerTask(
            tenant_id=task.tenant_id,
            channel=event.channel,
            session_id=session_id,
            message_id=event.message_id,
        )
        task_id = keys.answer_task_id(session_id, event.event_id)
        if attempt.replay_generation:
            # A replayed message (a dead letter): its first answer task's name may still
            # be refused by the queue, so the replay's answer task gets its own.
            task_id = "answer-" + keys.stable_hash(
                "answer", session_id, event.event_id, attempt.task_name
            )
        self._queue.enqueue(
            TaskRequest(
                queue="inbound",
                task_id=task_id,
                target=PROCESS_INBOUND,
                body=answer.model_dump_json().encode(),
                correlation_id=correlation_id,
                schedule_at=arrived_at + self._policy.answer_hold,
            )
        )
        return admission

    def _after_answer(
        self, written: Written, at: datetime | None, ctx: DecisionContext, correlation_id: str
    ) -> None:
        """The send task of the replies just committed, and the inactivity timer."""
        self._follow_ups.replies(written.outbox, at, correlation_id)
        if written.session.activity_seq:
            self._follow_ups.idle_timer(
                written.session, ctx.now, ctx.tenant.idle_timeout_seconds, correlation_id
            )

    def _answer(self, task: AnswerTask, correlation_id: str, attempt: TaskAttempt) -> str:
        """Answer the inbox; from the `poison_after_attempts`-th attempt on, a message whose
        answer fails for a reason retrying cannot fix is quarantined (taken out of the inbox
        into a dead letter, in one transaction) and the others are answered."""
        for _ in range(_MAX_QUARANTINES):
            try:
                return self._answer_once(task, correlation_id)
            except PoisonMessageError as error:
                recorder = self._dead_letters
                if recorder is None or not attempt.task_name:
                    raise
                if attempt.number < self._poison_after and not attempt.is_last:
                    raise
                self._quarantine(recorder, task, error, attempt, correlation_id)
        return self._answer_once(task, correlation_id)

    def _quarantine(
        self,
        recorder: DeadLetterRecorder,
        task: AnswerTask,
        error: PoisonMessageError,
        attempt: TaskAttempt,
        correlation_id: str,
    ) -> None:
        session = self._conversation.sessions.get(task.session_id)
        pending = next(
            (p for p in session.inbox if p.event.message_id == error.message_id), None
        ) if session else None  # fmt: skip
        if pending is None:
            return  # taken out already (a concurrent or redelivered attempt)
        replay = InboundTask(
            tenant_id=task.tenant_id,
            event=pending.event,
            received_at=pending.arrived_at,
            correlation_id=correlation_id,
        )
        ref = WorkRef(
            kind="answer",
            tenant_id=task.tenant_id,
            channel=task.channel,
            session_id=task.session_id,
            event_ref=keys.event_ref(pending.event.channel, pending.event.event_id),
            member=pending.event.message_id,
        )
        recorder.quarantine(
            attempt,
            replay.model_dump_json().encode(),
            ref,
            error.cause_code,
            pending.event.message_id,
            correlation_id,
        )

    def _answer_once(self, task: AnswerTask, correlation_id: str) -> str:
        ctx = self._context(task.tenant_id, task.session_id, correlation_id, task.channel)
        ctx = self._with_ai_plan(ctx, task)

        def work(uow: UnitOfWork) -> tuple[Session | None, Written | None]:
            current = uow.sessions.get(task.session_id)
            if current is None:
                return None, None
            decision = answer_inbox(current, self._flow, ctx, awaited=task.message_id)
            if decision.session == current:
                return current, None
            return current, write(uow, decision, current)

        committed = self._units.run(work)
        current, written = committed.result
        if current is None:
            raise MalformedPayloadError("answer task for a session that does not exist")
        if written is not None:
            self._checkpoints.reached("process.after_commit")
            self._after_answer(written, committed.at, ctx, correlation_id)
            return "answered"
        if current.pending(task.message_id):
            # A later message of the same burst is still inside its hold: its own answer
            # task answers them together.
            return "waiting_for_burst"
        # Answered already (a redelivery, or by a later message's task): a crash may have
        # come between that commit and its send task.
        self._follow_ups.unsettled(current, correlation_id)
        return "already_answered"

    def _with_ai_plan(self, ctx: DecisionContext, task: AnswerTask) -> DecisionContext:
        """Make the AI calls this answer will need before its transaction (see ai_plan)."""
        step = self._conversation.ai
        if step is None or not ctx.tenant.ai.enabled:
            return ctx
        session = self._conversation.sessions.get(task.session_id)
        recorder = RecordingSuggester(step.ai)
        if session is not None:
            # Raises HoldNotElapsedError before any call when the message must still wait.
            plan = answer_inbox(
                session, self._flow, replace(ctx, suggest=recorder), task.message_id
            )
            log_fallbacks(plan)
        return replace(ctx, suggest=ReplaySuggester(recorder.recorded))

    def _idle(self, task: IdleTask, correlation_id: str) -> str:
        if self._clock.now() < task.due_at:
            raise HoldNotElapsedError("inactivity timer fired early")
        ctx = self._context(task.tenant_id, task.session_id, correlation_id, task.channel)

        def work(uow: UnitOfWork) -> tuple[Session | None, Written | None]:
            session = uow.sessions.get(task.session_id)
            if session is None:
                return None, None
            turn = close_if_idle(session, task.activity_seq, ctx.turn_context())
            if turn is None:
                return session, None
            applied = apply_turn(turn, f"idle:{task.activity_seq}", ctx)
            written = write(uow, decision_for(session, applied, ctx), session)
            return written.session, written

        committed = self._units.run(work)
        session, written = committed.result
        if written is not None:
            self._follow_ups.replies(written.outbox, committed.at, correlation_id)
        closed_by_this_timer = (
            session is not None
            and session.activity_seq == task.activity_seq + 1
            and bool(session.transitions)
            and session.transitions[-1].reason == "idle_timeout"
        )
        if session is None or not closed_by_this_timer:
            return "not_idle"
        if written is None:
            # A redelivery after the close: a crash may have come before the send task.
            self._follow_ups.unsettled(session, correlation_id)
        return "closed"

    def _other(self, task: InboundTask, event_ref: str, correlation_id: str) -> str:
        event = task.event
        now = self._clock.now()
        key = keys.dedupe_key(event.channel, task.tenant_id, event.event_id)
        dedupe = DedupeRecord(
            channel=event.channel,
            tenant_id=task.tenant_id,
            event_type=event.type,
            created_at=now,
            expire_at=now + self._policy.dedupe_ttl,
        )
        if isinstance(event, MessageSent | MessageDelivered | MessageRead | MessageFailed):
            applied = apply_status_once(
                self._units, key, dedupe, event, task.tenant_id, now, correlation_id
            )
            return "status_applied" if applied else "duplicate"
        audit = AuditEntry(
            kind=_RECORDED_KINDS.get(type(event), AuditKind.DELIVERY_STATUS),
            at=now,
            channel=event.channel,
            tenant_id=task.tenant_id,
            event_id=event_ref,
            correlation_id=correlation_id,
            detail={"event_type": event.type, "reason": getattr(event, "reason", None)},
        )
        comment = (
            comment_record(event, task.tenant_id, now, self._policy.outbox_ttl)
            if isinstance(event, CommentReceived)
            else None
        )
        recorded = record_once(self._units, key, dedupe, (audit,), comment)
        return f"recorded_{event.type}" if recorded else "duplicate"
