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

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from atende.conversation import agent_actions
from atende.conversation.step import Turn, TurnContext
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.comment import CommentRecord, CommentStatus
from atende.domain.decisions import ActOutcome, CommentReply, InboundDecision
from atende.domain.dedupe import DedupeRecord
from atende.domain.messages import TextMessage
from atende.domain.outbox import OutboxRecord, ReplyOrigin, order_key
from atende.domain.session import Session
from atende.errors import MalformedPayloadError, SessionNotFoundError
from atende.observability.context import bind
from atende.ports import (
    Clock,
    QueueName,
    TenantDirectory,
    UnitOfWork,
    UnitsOfWork,
)
from atende.process_inbound.acting import Acted, act_once
from atende.process_inbound.decisions import (
    DEFAULT_TEXT_LIMIT,
    DecisionContext,
    apply_turn,
    decision_for,
)
from atende.process_inbound.settings import ProcessingSettings
from atende.tasks.follow_ups import FollowUps

logger = logging.getLogger(__name__)

#: The queues this hop enqueues to (an agent's reply (outbound) and the session's idle timer
#: (inbound)). atende.deployment grants exactly these to the function, infra/ must match,
#: and the local stack refuses the rest.
ENQUEUES: frozenset[QueueName] = frozenset({"inbound", "outbound"})

_Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
#: The CRM's id for an agent: opaque (its own user id, say), never an e-mail address or a
#: name, since it is written to the audit trail and to logs.
AGENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
AGENT_ID_RULE = (
    "agent_id must be an opaque id such as agent-7: 1 to 64 letters, digits, '.', '_', ':' "
    "or '-' (no e-mail addresses or names: it is written to the audit trail)"
)
_AgentId = Annotated[str, StringConstraints(pattern=AGENT_ID_PATTERN)]
_Hex40 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]


class AgentCommand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["reply", "release", "resolve", "comment_reply"]
    tenant_id: _Id
    #: The conversation (reply, release, resolve).
    session_id: _Hex40 | None = None
    #: The `comments/{id}` record (comment_reply).
    comment_id: _Hex40 | None = None
    #: The CRM's id for this request: its retries must reuse it.
    request_id: _Id
    #: The CRM's opaque id for the agent (AGENT_ID_PATTERN): it goes to the audit trail.
    agent_id: _AgentId
    text: str | None = None

    @model_validator(mode="after")
    def _names_its_target(self) -> AgentCommand:
        if self.action == "comment_reply" and self.comment_id is None:
            raise ValueError("comment_reply needs comment_id")
        if self.action != "comment_reply" and self.session_id is None:
            raise ValueError(f"{self.action} needs session_id")
        return self


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


def _request_replies(command: AgentCommand, session_id: str, acted: Acted) -> tuple[str, ...]:
    """The replies the request produced: those written now, or, for a request done before,
    its reply's deterministic id (a reply request makes exactly one)."""
    if acted.written is not None:
        return tuple(record.id for record in acted.written.outbox)
    if command.action == "reply":
        return (keys.outbox_id(command.tenant_id, session_id, f"agent:{command.request_id}", 0),)
    return ()


class AgentDesk:
    def __init__(
        self,
        units: UnitsOfWork,
        tenants: TenantDirectory,
        follow_ups: FollowUps,
        clock: Clock,
        policy: ProcessingSettings,
        text_limit: Callable[[str], int] = lambda _channel: DEFAULT_TEXT_LIMIT,
    ) -> None:
        self._units = units
        self._tenants = tenants
        self._follow_ups = follow_ups
        self._clock = clock
        self._policy = policy
        self._text_limit = text_limit

    def handle(self, body: bytes, correlation_id: str) -> AgentOutcome:
        return self.act(self.parse(body), correlation_id)

    @staticmethod
    def parse(body: bytes) -> AgentCommand:
        """The command in a request body; MalformedPayloadError says what is wrong."""
        try:
            return AgentCommand.model_validate_json(body)
        except ValidationError as error:
            problems = sorted(
                {
                    str(item["loc"][0]) if item["loc"] else str(item["msg"])
                    for item in error.errors(include_input=False)
                }
            )
            if "agent_id" in problems:
                others = [problem for problem in problems if problem != "agent_id"]
                also = f"; also check: {', '.join(others)}" if others else ""
                raise MalformedPayloadError(AGENT_ID_RULE + also, code="invalid_agent_id") from None
            raise MalformedPayloadError(
                f"not an agent command; check: {', '.join(problems) or 'the JSON body'}"
            ) from None

    def act(self, command: AgentCommand, correlation_id: str) -> AgentOutcome:
        """Apply a parsed command; the caller has checked that it may act for its tenant."""
        with bind(tenant_id=command.tenant_id, session_id=command.session_id):
            if command.action == "comment_reply":
                outcome = self._comment_reply(command, correlation_id)
            else:
                outcome = self._apply(command, correlation_id)
            # The agent id is opaque (AGENT_ID_PATTERN: no e-mail, no name), so it is logged.
            logger.info(
                "agent request handled",
                extra={
                    "json_fields": {
                        "action": command.action,
                        "outcome": outcome.outcome,
                        "agent_id": command.agent_id,
                    }
                },
            )
            return outcome

    def _apply(self, command: AgentCommand, correlation_id: str) -> AgentOutcome:
        if command.session_id is None:  # pragma: no cover - the model validator ensures it
            raise MalformedPayloadError("session_id is required")
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
        acted = act_once(self._units, key, dedupe, command.session_id, decide)
        session = acted.session
        if session is None or acted.outcome == "no_session":
            raise SessionNotFoundError("no such session")
        if acted.written is not None:
            self._follow_ups.replies(acted.written.outbox, acted.at, correlation_id)
        else:
            # A redelivered request: a crash may have come before its send task.
            self._follow_ups.unsettled(session, correlation_id)
        if command.action == "release" and acted.outcome == "applied":
            self._follow_ups.idle_timer(session, now, tenant.idle_timeout_seconds, correlation_id)
        return AgentOutcome(
            outcome="applied" if acted.outcome == "applied" else "duplicate",
            session_id=session.id,
            state=session.state.value,
            outbox_ids=_request_replies(command, session.id, acted),
        )

    def _checked_text(self, command: AgentCommand, channel: str) -> str:
        if command.action not in ("reply", "comment_reply"):
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

    def _comment_reply(self, command: AgentCommand, correlation_id: str) -> AgentOutcome:
        """A public reply in a comment's thread, through the same outbox and send path."""
        if command.comment_id is None:  # pragma: no cover - the model validator ensures it
            raise MalformedPayloadError("comment_id is required")
        now = self._clock.now()
        source = f"agent:{command.request_id}"

        def decide(comment: CommentRecord) -> CommentReply:
            if comment.tenant_id != command.tenant_id:
                raise SessionNotFoundError("no such comment for this tenant")
            if not comment.answerable:
                raise MalformedPayloadError(f"comments on {comment.channel} cannot be answered")
            text = self._checked_text(command, comment.channel)
            record = OutboxRecord(
                id=keys.outbox_id(command.tenant_id, comment.id, source, 0),
                tenant_id=command.tenant_id,
                channel=comment.channel,
                # Not a conversation: the reply waits for no other and starts no timer.
                session_id=f"comment:{comment.id}",
                account_id=comment.account_id,
                recipient=comment.author_id or "",
                message=TextMessage(body=text),
                inbound_event_id=source,
                reply_index=0,
                order_key=order_key(0),
                origin=ReplyOrigin.AGENT,
                reply_context=comment.reply_context,
                created_at=now,
                updated_at=now,
                expire_at=now + self._policy.outbox_ttl,
            )
            replied = comment.model_copy(
                update={"status": CommentStatus.REPLIED, "replied_at": now}
            )
            audit = AuditEntry(
                kind=AuditKind.AGENT_ACTION,
                at=now,
                channel=comment.channel,
                tenant_id=command.tenant_id,
                event_id=keys.event_ref(comment.channel, source),
                outbox_id=record.id,
                correlation_id=correlation_id,
                detail={"action": "comment_reply", "agent": command.agent_id},
            )
            return CommentReply(comment=replied, outbox=record, audit=(audit,))

        dedupe = DedupeRecord(
            channel="agent",
            tenant_id=command.tenant_id,
            event_type="agent_comment_reply",
            created_at=now,
            expire_at=now + self._policy.dedupe_ttl,
        )
        key = keys.agent_request_key(command.tenant_id, command.request_id)
        comment_id = command.comment_id

        def work(uow: UnitOfWork) -> tuple[ActOutcome, CommentRecord | None]:
            current = uow.comments.get(comment_id)
            if current is None:
                return "no_session", None
            if uow.dedupe.seen(key):
                return "duplicate", current
            reply = decide(current)
            uow.dedupe.add(key, dedupe)
            uow.outbox.add(reply.outbox)
            uow.comments.save(reply.comment)
            uow.audit(reply.audit)
            return "applied", reply.comment

        result, comment = self._units.run(work).result
        if comment is None or result == "no_session":
            raise SessionNotFoundError("no such comment")
        outbox_id = keys.outbox_id(command.tenant_id, comment.id, source, 0)
        self._follow_ups.reply(comment.id, outbox_id, correlation_id)
        return AgentOutcome(
            outcome="applied" if result == "applied" else "duplicate",
            session_id=comment.id,
            state=comment.status.value,
            outbox_ids=(outbox_id,),
        )
