"""The `agent_reply` use case: an agent (through a CRM) replies to a conversation, hands it
back to the bot, or resolves it.

Each request carries the CRM's own `request_id`: a retried request is recognised by it and
changes nothing twice. Replies go through the same outbox, order and send path as the bot's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from atende.conversation import agent_actions
from atende.conversation.step import Turn, TurnContext
from atende.domain import keys
from atende.domain.dedupe import DedupeRecord
from atende.domain.session import Session
from atende.errors import MalformedPayloadError, SessionNotFoundError
from atende.observability.context import bind
from atende.pipeline.follow_ups import FollowUps
from atende.pipeline.inbound_decision import (
    DEFAULT_TEXT_LIMIT,
    DecisionContext,
    apply_turn,
    decision_for,
)
from atende.pipeline.process import ProcessingPolicy
from atende.ports import Clock, InboundDecision, InboundStore, TenantDirectory

logger = logging.getLogger(__name__)

_Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]


class AgentCommand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["reply", "release", "resolve"]
    tenant_id: _Id
    session_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
    #: The CRM's id for this request: its retries must reuse it.
    request_id: _Id
    #: The CRM's id for the agent (an id, not a name: it goes to the audit trail).
    agent_id: _Id
    text: str | None = None


@dataclass(frozen=True)
class AgentOutcome:
    outcome: Literal["applied", "duplicate"]
    session_id: str
    state: str
    outbox_ids: tuple[str, ...] = ()


_ACTIONS: dict[str, Callable[[Session, str, str, TurnContext], Turn]] = {
    "reply": lambda session, text, agent, ctx: agent_actions.agent_reply(session, text, agent, ctx),
    "release": lambda session, _text, agent, ctx: agent_actions.hand_back(session, agent, ctx),
    "resolve": lambda session, _text, agent, ctx: agent_actions.resolve(session, agent, ctx),
}


class AgentDesk:
    def __init__(
        self,
        store: InboundStore,
        tenants: TenantDirectory,
        follow_ups: FollowUps,
        clock: Clock,
        policy: ProcessingPolicy,
        text_limit: Callable[[str], int] = lambda _channel: DEFAULT_TEXT_LIMIT,
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._follow_ups = follow_ups
        self._clock = clock
        self._policy = policy
        self._text_limit = text_limit

    def handle(self, body: bytes, correlation_id: str) -> AgentOutcome:
        try:
            command = AgentCommand.model_validate_json(body)
        except ValidationError as error:
            fields = sorted({str(item["loc"][0]) for item in error.errors() if item["loc"]})
            raise MalformedPayloadError(
                f"not an agent command; check: {', '.join(fields) or 'the JSON body'}"
            ) from error
        with bind(tenant_id=command.tenant_id, session_id=command.session_id):
            outcome = self._apply(command, correlation_id)
            logger.info(
                "agent request handled",
                extra={"json_fields": {"action": command.action, "outcome": outcome.outcome}},
            )
            return outcome

    def _apply(self, command: AgentCommand, correlation_id: str) -> AgentOutcome:
        now = self._clock.now()
        tenant = self._tenants.get(command.tenant_id)
        ctx = DecisionContext(
            tenant_id=command.tenant_id,
            session_id=command.session_id,
            now=now,
            outbox_ttl=self._policy.outbox_ttl,
            dedupe_ttl=self._policy.dedupe_ttl,
            hold=self._policy.answer_hold,
            correlation_id=correlation_id,
            tenant=tenant,
        )

        def decide(session: Session) -> InboundDecision:
            if session.tenant_id != command.tenant_id:
                raise SessionNotFoundError("no such session for this tenant")
            text = self._checked_text(command, session.channel)
            turn = _ACTIONS[command.action](session, text, command.agent_id, ctx.turn_context())
            applied = apply_turn(turn, f"agent:{command.request_id}", ctx)
            return decision_for(session, applied, ctx)

        dedupe = DedupeRecord(
            channel="agent",
            tenant_id=command.tenant_id,
            event_type=f"agent_{command.action}",
            created_at=now,
            expire_at=now + self._policy.dedupe_ttl,
        )
        key = keys.agent_request_key(command.tenant_id, command.request_id)
        result, session = self._store.act(key, dedupe, command.session_id, decide)
        if session is None or result == "no_session":
            raise SessionNotFoundError("no such session")
        self._follow_ups.sends(session, correlation_id)
        if command.action == "release" and result == "applied":
            self._follow_ups.idle_timer(session, now, tenant.idle_timeout_seconds, correlation_id)
        return AgentOutcome(
            outcome="applied" if result == "applied" else "duplicate",
            session_id=session.id,
            state=session.state.value,
            outbox_ids=tuple(p.outbox_id for p in session.outbound_pending),
        )

    def _checked_text(self, command: AgentCommand, channel: str) -> str:
        if command.action != "reply":
            return ""
        text = (command.text or "").strip()
        if not text:
            raise MalformedPayloadError("a reply needs a non-empty text")
        limit = self._text_limit(channel)
        if len(text) > limit:
            raise MalformedPayloadError(
                f"the reply is longer than the channel's {limit} characters"
            )
        return text
