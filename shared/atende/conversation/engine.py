"""The conversation engine: policies first, then the state machine's next step, with the AI
as an optional helper for free-text answers and a deterministic reply for every state.

Pure: the AI comes in as a `Suggester` the caller provides, the clock as `TurnContext.now`.
"""

from __future__ import annotations

import re

from atende.ai.contract import AiFailure, Suggester
from atende.ai.request import build_request
from atende.ai.validate import validate_reply
from atende.conversation.builder import TurnBuilder, missing_fields
from atende.conversation.faq import match_faq
from atende.conversation.notices import (
    is_bare_share_outside_a_conversation,
    record_notice,
    record_share,
)
from atende.conversation.step import Turn, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.events import NOTICE_KINDS, MessageKind, MessageReceived
from atende.domain.outbox import ReplyOrigin
from atende.domain.session import HandoffInfo, Session, StoredMessage
from atende.fsm.guards import Actor, handoff_allowed
from atende.fsm.machine import InvalidTransitionError, allowed_targets
from atende.fsm.states import BOT_STATES, ENDED_STATES, State
from atende.policies.abuse import check_abuse
from atende.policies.decision import Policy, PolicyDecision
from atende.policies.handoff import handoff_reason
from atende.policies.opt_out import asks_to_opt_out
from atende.policies.routing import route_for
from atende.policies.text import is_exactly

#: States the AI may never propose: only the system closes or fails a conversation.
_SYSTEM_ONLY = frozenset({State.CLOSED, State.ERROR})


def _text_of(message: MessageReceived) -> str | None:
    text = message.text or (message.media.caption if message.media else None)
    return text.strip() if text and text.strip() else None


def _for_ai(message: StoredMessage) -> str:
    """A message as the AI may see it: the answer to a required field only by its name."""
    if message.field is not None:
        return f"({message.field} informado)"
    return message.text or ""


class ConversationEngine:
    def respond(self, session: Session, message: MessageReceived, ctx: TurnContext) -> Turn:
        turn = TurnBuilder(session, ctx)
        try:
            self._respond(turn, message)
        except InvalidTransitionError as error:
            return self._failed(session, ctx, error)
        return turn.turn()

    # -- policies, in order ---------------------------------------------------------------
    def _respond(self, turn: TurnBuilder, message: MessageReceived) -> None:
        if message.kind == MessageKind.SYSTEM:
            turn.note(AuditKind.POLICY_DECISION, policy="content", outcome="ignored",
                      reason="system_message")  # fmt: skip
            return
        if message.kind in NOTICE_KINDS:
            # Not someone writing to us: recorded for a person, never answered (notices.py).
            record_notice(turn, message)
            return
        if is_bare_share_outside_a_conversation(turn.session, message):
            record_share(turn)
            return
        if turn.session.state == State.HANDOFF_HUMAN:
            self._while_handed_off(turn, message)
            return
        if turn.session.state == State.RESOLVED and is_exactly(
            _text_of(message), turn.ctx.tenant.closing_keywords
        ):
            # A "thanks" after the goodbye: kept and audited, not a new conversation.
            turn.note(AuditKind.POLICY_DECISION, policy="content", outcome="ignored",
                      reason="closing_after_resolved")  # fmt: skip
            return
        if turn.session.opted_out:
            turn.update(opted_out=False)
            turn.policy(PolicyDecision(Policy.OPT_OUT, "resumed", "contact_wrote_again"))
        tenant = turn.ctx.tenant
        abuse = check_abuse(turn.session, message, tenant.abuse, turn.ctx.now)
        turn.update(abuse=abuse.state)
        if abuse.decision is not None:
            turn.policy(abuse.decision)
            if abuse.notify:
                turn.say(tenant.messages.abuse_notice)
            return
        if asks_to_opt_out(message, tenant):
            turn.update(opted_out=True)
            turn.policy(PolicyDecision(Policy.OPT_OUT, "opted_out", "opt_out_keyword"))
            if tenant.messages.opt_out_confirmation.strip():
                turn.say(tenant.messages.opt_out_confirmation, ReplyOrigin.NOTICE)
            return
        if turn.session.state in ENDED_STATES:
            turn.go(State.TRIAGE, "reopened")
            turn.say(tenant.messages.welcome_back)
        elif turn.session.state == State.ERROR:
            turn.go(State.TRIAGE, "recovered")
        reason = handoff_reason(message, tenant)
        if reason is not None:
            self._hand_off(turn, message, reason)
            return
        self._next_step(turn, message)

    def _while_handed_off(self, turn: TurnBuilder, message: MessageReceived) -> None:
        """The bot stays silent; the agent's queue learns there is something new to read."""
        info = turn.session.handoff
        if info is not None:
            turn.update(
                handoff=info.model_copy(
                    update={"unread": info.unread + 1, "last_inbound_at": message.occurred_at}
                )
            )
        turn.policy(PolicyDecision(Policy.HANDOFF, "bot_silent", "waiting_for_agent"))
        # Opting out (or back in) holds in a handoff too: it decides whether the bot may
        # write again after the hand-back. The agent reads the message; no confirmation.
        if asks_to_opt_out(message, turn.ctx.tenant):
            turn.update(opted_out=True)
            turn.policy(PolicyDecision(Policy.OPT_OUT, "opted_out", "opt_out_keyword"))
        elif turn.session.opted_out:
            turn.update(opted_out=False)
            turn.policy(PolicyDecision(Policy.OPT_OUT, "resumed", "contact_wrote_again"))

    def _hand_off(
        self, turn: TurnBuilder, message: MessageReceived, reason: str, lead: str | None = None
    ) -> None:
        tenant = turn.ctx.tenant
        if not handoff_allowed(turn.guard(handoff_requested=True)):
            turn.policy(PolicyDecision(Policy.BUSINESS_HOURS, "handoff_declined", "off_hours"))
            if lead:
                turn.say(lead)
            turn.say(tenant.messages.off_hours)
            return
        source = turn.session.state
        route = route_for(turn.session.topic or _text_of(message), tenant)
        if route.reason == "default" and turn.session.route:
            # Nothing in this request names a team: the conversation's subject still does.
            route = PolicyDecision(Policy.ROUTING, turn.session.route, "conversation_route")
        resume = source if source in BOT_STATES else State.TRIAGE
        turn.go(State.HANDOFF_HUMAN, reason, handoff_requested=True)
        turn.update(
            route=route.outcome,
            handoff=HandoffInfo(
                requested_at=turn.ctx.now,
                reason=reason,
                queue=route.outcome,
                off_hours=not turn.open_now,
                resume_state=resume,
                last_inbound_at=message.occurred_at,
            ),
        )
        turn.policy(route)
        turn.note(AuditKind.HANDOFF, reason=reason, queue=route.outcome,
                  off_hours=not turn.open_now)  # fmt: skip
        if lead:
            turn.say(lead)
        turn.say(
            tenant.messages.handoff_notice if turn.open_now else tenant.messages.handoff_off_hours
        )

    # -- the state machine's next step ---------------------------------------------------
    def _next_step(self, turn: TurnBuilder, message: MessageReceived) -> None:
        messages = turn.ctx.tenant.messages
        if turn.session.state == State.NEW:
            turn.go(State.TRIAGE, "greeted")
            turn.say(messages.greeting)
            if not turn.open_now:
                turn.policy(PolicyDecision(Policy.BUSINESS_HOURS, "off_hours_notice", "closed_now"))
                turn.say(messages.off_hours)
            turn.say(messages.triage_question)
            return
        text = _text_of(message)
        if text is None:
            turn.note(AuditKind.POLICY_DECISION, policy="content", outcome="cannot_read",
                      reason=message.kind.value)  # fmt: skip
            turn.say(messages.cannot_read)
            return
        state = turn.session.state
        if state == State.COLLECTING_INFO:
            self._collect(turn, message, text)
            return
        if state in (State.ANSWERING, State.WAITING_USER) and is_exactly(
            text, turn.ctx.tenant.closing_keywords
        ):
            turn.go(State.RESOLVED, "contact_done")
            turn.update(topic=None)
            turn.say(messages.goodbye)
            return
        turn.update(topic=text)
        if missing_fields(turn.session, turn.ctx):
            self._ask_next_field(turn, "required_fields")
            return
        self._answer(turn, message, text)

    def _ask_next_field(self, turn: TurnBuilder, reason: str) -> None:
        field = missing_fields(turn.session, turn.ctx)[0]
        turn.go(State.COLLECTING_INFO, reason)
        turn.update(collecting=field.name)
        turn.say(field.prompt)

    def _collect(self, turn: TurnBuilder, message: MessageReceived, text: str) -> None:
        missing = missing_fields(turn.session, turn.ctx)
        field = next((f for f in missing if f.name == turn.session.collecting), None)
        field = field or (missing[0] if missing else None)
        if field is None:  # nothing left to ask (an AI step chose this state): answer
            self._answer(turn, message, text)
            return
        # Whatever it holds, the answer to a field is for the flow, never for the AI.
        turn.session = turn.session.marked_as_field(message.message_id, field.name)
        if field.pattern is not None and re.fullmatch(field.pattern, text) is None:
            turn.note(AuditKind.POLICY_DECISION, policy="required_field", outcome="invalid",
                      reason=field.name)  # fmt: skip
            turn.say(turn.ctx.tenant.messages.invalid_field)
            turn.say(field.prompt)
            return
        turn.update(collected={**turn.session.collected, field.name: text}, collecting=None)
        turn.note(AuditKind.POLICY_DECISION, policy="required_field", outcome="collected",
                  reason=field.name)  # fmt: skip
        if missing_fields(turn.session, turn.ctx):
            self._ask_next_field(turn, "next_field")
            return
        self._answer(turn, message, turn.session.topic or text, reason="fields_collected")

    def _answer(
        self, turn: TurnBuilder, message: MessageReceived, topic: str, reason: str = "answer"
    ) -> None:
        tenant = turn.ctx.tenant
        faq = match_faq(topic, tenant)
        route = route_for(topic, tenant, faq.queue if faq else None)
        if route.outcome != turn.session.route:
            turn.update(route=route.outcome)
            turn.policy(route)
        suggest = turn.ctx.suggest
        if suggest is not None and tenant.ai.enabled and self._ai_answer(turn, message, suggest):
            turn.update(topic=None)
            return
        turn.go(State.ANSWERING, f"{reason}:{'faq' if faq else 'default'}")
        # One message: on a phone, every extra bubble is a notification.
        messages = tenant.messages
        turn.say(f"{faq.answer}\n\n{messages.anything_else}" if faq else messages.default_answer)
        turn.go(State.WAITING_USER, "answered")
        turn.update(topic=None)

    # -- the AI step ---------------------------------------------------------------------
    def _ai_answer(self, turn: TurnBuilder, message: MessageReceived, suggest: Suggester) -> bool:
        """Use a valid AI suggestion; False (audited) to fall back to the deterministic path."""
        session, ctx = turn.session, turn.ctx
        source = session.state
        allowed = allowed_targets(source, turn.guard(handoff_requested=True)) - _SYSTEM_ONLY
        request = build_request(
            tenant_id=session.tenant_id,
            channel=session.channel,
            state=source.value,
            allowed_next_states=tuple(sorted(state.value for state in allowed)),
            history=tuple(
                ("user" if m.author == "contact" else "assistant", _for_ai(m))
                for m in session.messages
                if m.text
            ),
            tenant=ctx.tenant,
            text_limit=ctx.text_limit,
            budget_chars=ctx.ai_history_chars,
            model=ctx.ai_model,
        )
        outcome = suggest(request)
        if isinstance(outcome, AiFailure):
            turn.note(AuditKind.AI_DECISION, outcome="fallback", reason=outcome.reason)
            return False
        problem = validate_reply(outcome, request, session.contact_texts(), ctx.tenant)
        if problem is not None:
            turn.note(AuditKind.AI_DECISION, outcome="fallback", reason=problem)
            return False
        target = State(outcome.next_state)
        turn.note(AuditKind.AI_DECISION, outcome="used", next_state=target.value,
                  confidence=round(outcome.confidence * 100), handoff=outcome.handoff)  # fmt: skip
        if outcome.handoff or target == State.HANDOFF_HUMAN:
            self._hand_off(turn, message, "ai_suggested", lead=outcome.reply)
            return True
        turn.go(target, "ai")
        turn.say(outcome.reply)
        return True

    # -- when the engine itself went wrong -----------------------------------------------
    def _failed(self, session: Session, ctx: TurnContext, error: InvalidTransitionError) -> Turn:
        """An invalid transition is audited and parks the session in ERROR with an apology;
        the next message recovers it. Never silently ignored."""
        turn = TurnBuilder(session, ctx, actor=Actor.SYSTEM)
        turn.note(AuditKind.INVALID_TRANSITION, **{"from": error.source.value,
                  "to": error.target.value, "reason": error.reason})  # fmt: skip
        if State.ERROR in allowed_targets(session.state, turn.guard()):
            turn.go(State.ERROR, "invalid_transition")
        turn.say(ctx.tenant.messages.error_apology)
        return turn.turn()
