"""What an agent can do to a conversation: reply, hand it back to the bot, resolve it."""

from __future__ import annotations

from atende.conversation.builder import TurnBuilder
from atende.conversation.step import Turn, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.outbox import ReplyOrigin
from atende.domain.session import HandoffInfo, Session
from atende.fsm.guards import Actor
from atende.fsm.machine import InvalidTransitionError
from atende.fsm.states import State


def _take_over(turn: TurnBuilder) -> None:
    """An agent writing to a conversation the bot has takes it: the bot goes silent."""
    source = turn.session.state
    if source == State.HANDOFF_HUMAN:
        return
    # An agent is there by definition, so business hours do not apply to their takeover.
    turn.go(State.HANDOFF_HUMAN, "agent_took_over", handoff_requested=True,
            within_business_hours=True)  # fmt: skip
    queue = turn.session.route or turn.ctx.tenant.default_queue
    turn.update(
        handoff=HandoffInfo(
            requested_at=turn.ctx.now,
            reason="agent_took_over",
            queue=queue,
            off_hours=False,
            resume_state=source if source in (State.TRIAGE, State.COLLECTING_INFO,
                                              State.ANSWERING, State.WAITING_USER)
            else State.TRIAGE,
        )
    )  # fmt: skip


def agent_reply(session: Session, text: str, agent: str, ctx: TurnContext) -> Turn:
    turn = TurnBuilder(session, ctx, actor=Actor.AGENT)
    _take_over(turn)
    info = turn.session.handoff
    if info is not None:
        turn.update(handoff=info.model_copy(update={"unread": 0}))
    turn.note(AuditKind.AGENT_ACTION, action="reply", agent=agent)
    turn.say(text, ReplyOrigin.AGENT)
    return turn.turn()


def hand_back(session: Session, agent: str, ctx: TurnContext) -> Turn:
    """The bot resumes from where the conversation was when it was handed off."""
    resume = session.handoff.resume_state if session.handoff else State.TRIAGE
    if session.state != State.HANDOFF_HUMAN:
        # Nothing to hand back: the bot has the conversation already.
        raise InvalidTransitionError(session.state, resume, "the conversation is not handed off")
    turn = TurnBuilder(session, ctx, actor=Actor.AGENT)
    turn.go(resume, "agent_handed_back")
    turn.update(handoff=None)
    turn.note(AuditKind.AGENT_ACTION, action="release", agent=agent, resume_state=resume.value)
    turn.say(ctx.tenant.messages.handback)
    return turn.turn()


def resolve(session: Session, agent: str, ctx: TurnContext) -> Turn:
    turn = TurnBuilder(session, ctx, actor=Actor.AGENT)
    turn.go(State.RESOLVED, "agent_resolved")
    turn.update(handoff=None, topic=None)
    turn.note(AuditKind.AGENT_ACTION, action="resolve", agent=agent)
    return turn.turn()
