"""Accumulates one turn: transitions checked against the FSM, replies, and audit notes."""

from __future__ import annotations

from typing import Any

from atende.conversation.step import Note, Reply, Turn, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.messages import TextMessage
from atende.domain.outbox import ReplyOrigin
from atende.domain.session import Session
from atende.fsm import machine
from atende.fsm.guards import Actor, GuardContext
from atende.fsm.states import State
from atende.policies.decision import PolicyDecision
from atende.policies.hours import within_business_hours
from atende.tenants.tenant_config import RequiredField


def missing_fields(session: Session, ctx: TurnContext) -> tuple[RequiredField, ...]:
    return tuple(f for f in ctx.tenant.required_fields if f.name not in session.collected)


class TurnBuilder:
    def __init__(self, session: Session, ctx: TurnContext, actor: Actor = Actor.CONTACT) -> None:
        self.session = session
        self.ctx = ctx
        self.actor = actor
        self.open_now = within_business_hours(ctx.tenant, ctx.now)
        self._replies: list[Reply] = []
        self._notes: list[Note] = []

    def guard(self, **overrides: Any) -> GuardContext:
        hours = self.ctx.tenant.business_hours
        facts: dict[str, Any] = {
            "actor": self.actor,
            "within_business_hours": self.open_now,
            "handoff_off_hours": hours is None or hours.queue_handoff_off_hours,
            "required_fields_collected": not missing_fields(self.session, self.ctx),
            "abusive": self._cooling_down(),
        }
        return GuardContext(**{**facts, **overrides})

    def _cooling_down(self) -> bool:
        until = self.session.abuse.cooldown_until
        return until is not None and self.ctx.now < until

    def go(self, target: State, reason: str, **guard_overrides: Any) -> None:
        """Move to `target`; staying in the same state is not a transition."""
        source = self.session.state
        if target == source:
            return
        machine.check(source, target, self.guard(**guard_overrides))
        history = machine.record(self.session.transitions, source, target, reason, self.ctx.now)
        self.update(state=target, transitions=history)
        self.note(
            AuditKind.STATE_TRANSITION,
            **{"from": source.value, "to": target.value, "reason": reason},
        )

    def update(self, **fields: Any) -> None:
        self.session = self.session.model_copy(update=fields)

    def say(self, text: str, origin: ReplyOrigin = ReplyOrigin.BOT) -> None:
        self._replies.append(Reply(TextMessage(body=text), origin))

    def note(self, kind: AuditKind, **detail: str | int | bool | None) -> None:
        self._notes.append(Note(kind, dict(detail)))

    def policy(self, decision: PolicyDecision) -> None:
        self.note(
            AuditKind.POLICY_DECISION,
            policy=decision.policy.value,
            outcome=decision.outcome,
            reason=decision.reason,
        )

    def turn(self) -> Turn:
        return Turn(session=self.session, replies=tuple(self._replies), notes=tuple(self._notes))
