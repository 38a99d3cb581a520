"""Checks a transition against the table and records it in a bounded history."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from atende.errors import PermanentError
from atende.fsm.guards import GuardContext
from atende.fsm.states import State
from atende.fsm.table import TABLE, Edge

#: Transitions kept in the session document; every one is also in the audit trail.
MAX_HISTORY = 30


class InvalidTransitionError(PermanentError):
    """A transition the table does not allow, or whose guard refused it."""

    code = "invalid_transition"

    def __init__(self, source: State, target: State, reason: str) -> None:
        super().__init__(f"{source.value} -> {target.value} is not allowed ({reason})")
        self.source = source
        self.target = target
        self.reason = reason


class TransitionRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: State
    target: State
    reason: str
    at: datetime


def edges_from(source: State) -> tuple[Edge, ...]:
    return tuple(edge for edge in TABLE if source in edge.source)


def allowed_targets(source: State, ctx: GuardContext) -> frozenset[State]:
    """Where the conversation may go from `source` in this context."""
    return frozenset(edge.target for edge in edges_from(source) if edge.guard(ctx))


def check(source: State, target: State, ctx: GuardContext) -> None:
    """Raise InvalidTransitionError unless `source -> target` is allowed in `ctx`."""
    edges = [edge for edge in edges_from(source) if edge.target == target]
    if not edges:
        raise InvalidTransitionError(source, target, "not in the transition table")
    if not any(edge.guard(ctx) for edge in edges):
        raise InvalidTransitionError(source, target, f"guard refused: {edges[0].guard.__name__}")


def record(
    history: tuple[TransitionRecord, ...], source: State, target: State, reason: str, at: datetime
) -> tuple[TransitionRecord, ...]:
    entry = TransitionRecord(source=source, target=target, reason=reason, at=at)
    return (*history, entry)[-MAX_HISTORY:]
