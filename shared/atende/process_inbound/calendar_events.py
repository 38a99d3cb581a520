"""Calendar events in `process_inbound`: a calendar's change notice becomes one task per
changed appointment (its sync), and each change becomes a notice to the contact it names, on
the conversation they already have with us (or a record of why none went out)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from atende.conversation.appointments import appointment_notice
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.decisions import InboundDecision
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import CalendarEvent, CalendarSyncRequested
from atende.domain.session import Session
from atende.errors import MalformedPayloadError
from atende.ports import (
    CalendarSync,
    Clock,
    TaskQueue,
    UnitsOfWork,
)
from atende.process_inbound.acting import act_once, record_once
from atende.process_inbound.calendar_sync import sync_calendar
from atende.process_inbound.decisions import DecisionContext, apply_turn, decision_for
from atende.process_inbound.settings import ProcessingSettings
from atende.tasks.contracts import InboundTask
from atende.tasks.follow_ups import FollowUps

logger = logging.getLogger(__name__)

#: Builds the decision context of a session: (tenant, session, correlation id, channel).
ContextFor = Callable[[str, str, str, str | None], DecisionContext]


class CalendarEvents:
    def __init__(
        self,
        units: UnitsOfWork,
        queue: TaskQueue,
        follow_ups: FollowUps,
        clock: Clock,
        policy: ProcessingSettings,
        calendars: Callable[[str], CalendarSync] | None,
        context: ContextFor,
    ) -> None:
        self._units = units
        self._queue = queue
        self._follow_ups = follow_ups
        self._clock = clock
        self._policy = policy
        self._calendars = calendars
        self._context = context

    def sync(self, task: InboundTask, event: CalendarSyncRequested, correlation_id: str) -> str:
        """Fetch the changes the notice announces; each becomes its own task. Not deduped:
        a repeated notice finds nothing new after the sync cursor."""
        calendars = self._calendars
        if calendars is None:
            raise MalformedPayloadError("no calendar sync is configured")
        changed = sync_calendar(
            calendars(event.channel),
            self._queue,
            tenant_id=task.tenant_id,
            calendar_id=event.calendar_id,
            received_at=self._clock.now(),
            correlation_id=correlation_id,
        )
        logger.info("calendar synced", extra={"json_fields": {"changes": changed}})
        return "calendar_synced"

    def announce(self, task: InboundTask, event: CalendarEvent, correlation_id: str) -> str:
        """The notice of a calendar change, on the channel where the contact talks to us."""
        now = self._clock.now()
        key = keys.dedupe_key(event.channel, task.tenant_id, event.event_id)
        dedupe = DedupeRecord(
            channel=event.channel,
            tenant_id=task.tenant_id,
            event_type=event.type,
            created_at=now,
            expire_at=now + self._policy.dedupe_ttl,
        )
        channel, _, contact = (event.contact_ref or "").partition(":")
        if not channel or not contact:
            return self._unsent(task, event, key, dedupe, "no_contact", correlation_id)
        session_id = keys.session_id(task.tenant_id, channel, contact)
        ctx = self._context(task.tenant_id, session_id, correlation_id, channel)

        def decide(session: Session) -> InboundDecision:
            turn = appointment_notice(session, event, ctx.turn_context())
            applied = apply_turn(turn, f"{event.channel}:{event.event_id}", ctx)
            return decision_for(session, applied, ctx, activity=False)

        acted = act_once(self._units, key, dedupe, session_id, decide)
        if acted.outcome == "no_session" or acted.session is None:
            # We only write to someone on a channel where they already talk to us.
            return self._unsent(task, event, key, dedupe, "no_conversation", correlation_id)
        if acted.written is not None:
            self._follow_ups.replies(acted.written.outbox, acted.at, correlation_id)
            return "appointment_notified"
        # A redelivery: a crash may have come before its send task.
        self._follow_ups.unsettled(acted.session, correlation_id)
        return "duplicate"

    def _unsent(
        self,
        task: InboundTask,
        event: CalendarEvent,
        key: str,
        dedupe: DedupeRecord,
        reason: str,
        correlation_id: str,
    ) -> str:
        audit = AuditEntry(
            kind=AuditKind.APPOINTMENT,
            at=dedupe.created_at,
            channel=event.channel,
            tenant_id=task.tenant_id,
            event_id=keys.event_ref(event.channel, event.event_id),
            correlation_id=correlation_id,
            detail={"event_type": event.type, "notice": False, "reason": reason},
        )
        recorded = record_once(self._units, key, dedupe, (audit,))
        return f"appointment_{reason}" if recorded else "duplicate"
