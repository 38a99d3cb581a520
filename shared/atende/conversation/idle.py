"""Closing a conversation nobody has written to for the tenant's idle timeout."""

from __future__ import annotations

from atende.conversation.builder import TurnBuilder
from atende.conversation.step import Turn, TurnContext
from atende.domain.session import Session
from atende.fsm.guards import Actor
from atende.fsm.states import State

#: Not closed for inactivity: waiting for a person is the agent's business, a closed
#: conversation is closed already, and one still `new` never started (its only events were
#: not someone writing to us: a deletion, an edit, a story mention, a system message), so
#: nobody is told it ended and their first real message is greeted.
_NOT_CLOSED_WHEN_IDLE = frozenset({State.HANDOFF_HUMAN, State.CLOSED, State.NEW})


def close_if_idle(session: Session, activity_seq: int, ctx: TurnContext) -> Turn | None:
    """The closing turn, or None when the session moved on since the timer was set."""
    if (
        session.activity_seq != activity_seq
        or session.inbox
        or session.state in _NOT_CLOSED_WHEN_IDLE
    ):
        return None
    turn = TurnBuilder(session, ctx, actor=Actor.SYSTEM)
    was_resolved = session.state == State.RESOLVED
    turn.go(State.CLOSED, "idle_timeout")
    turn.update(topic=None, collecting=None)
    closing = ctx.tenant.messages.idle_close.strip()
    if closing and not was_resolved:
        turn.say(closing)
    return turn.turn()
