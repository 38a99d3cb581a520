"""Conversations the agent-action, idle and handoff-record tests start from: a contact
answered by the engine message by message, and a turn saved as the processor saves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atende.ai.contract import Suggester
from atende.conversation.engine import ConversationEngine
from atende.conversation.step import Turn, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.decisions import InboundDecision
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.session import Session
from atende.fsm.states import State
from atende.process_inbound.decisions import (
    DecisionContext,
    admit_message,
    answer_inbox,
    apply_turn,
    decision_for,
)
from atende.tenants.tenant_config import DEFAULT_CONFIG, FaqEntry, RequiredField, TenantConfig

#: Wednesday 25 November 2026, 12:00 in São Paulo.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
HOLD = timedelta(seconds=1)
TTL = timedelta(days=30)
MESSAGES = DEFAULT_CONFIG.messages

BOLETO = FaqEntry(keywords=("boleto",), answer="O boleto está no app.", queue="financeiro")
CPF = RequiredField(name="cpf", prompt="Qual é o seu CPF?", pattern=r"\d{11}")
TENANT = TenantConfig(faq=(BOLETO,), default_queue="geral")
WITH_CPF = TENANT.model_copy(update={"required_fields": (CPF,)})


def decision_ctx(
    tenant: TenantConfig, now: datetime, suggest: Suggester | None = None
) -> DecisionContext:
    return DecisionContext(
        tenant_id="loja",
        session_id="s1",
        now=now,
        outbox_ttl=TTL,
        dedupe_ttl=timedelta(days=7),
        hold=HOLD,
        tenant=tenant,
        suggest=suggest,
    )


def converse(*texts: str, tenant: TenantConfig = TENANT) -> Session:
    """The session after the contact wrote `texts`, a minute apart, each answered."""
    session: Session | None = None
    for index, text in enumerate(texts):
        at = NOW + timedelta(minutes=index)
        ctx = decision_ctx(tenant, at + HOLD)
        message = MessageReceived(
            channel="whatsapp",
            event_id=f"wamid.{index}",
            account_id="106540352242922",
            contact_id="5511999990000",
            occurred_at=at,
            message_id=f"wamid.{index}",
            kind=MessageKind.TEXT,
            text=text,
        )
        admitted = admit_message(session, message, at, ctx)
        assert admitted is not None
        session = answer_inbox(admitted, ConversationEngine(), ctx).session
    assert session is not None
    return session


LATER = NOW + timedelta(hours=1)


def act(session: Session, turn: Turn, tenant: TenantConfig = TENANT) -> InboundDecision:
    """Save an agent's or the idle timer's turn as the processor does."""
    ctx = decision_ctx(tenant, LATER)
    return decision_for(session, apply_turn(turn, "agent:req-1", ctx), ctx)


def turn_ctx(tenant: TenantConfig = TENANT, now: datetime = LATER) -> TurnContext:
    return TurnContext(tenant=tenant, now=now, text_limit=4096)


def transitions(turn: Turn) -> list[tuple[object, object, object]]:
    return [
        (note.detail["from"], note.detail["to"], note.detail["reason"])
        for note in turn.notes
        if note.kind == AuditKind.STATE_TRANSITION
    ]


def handed_off(*texts: str, tenant: TenantConfig = TENANT) -> Session:
    session = converse(*texts, "quero falar com um atendente", tenant=tenant)
    assert session.state == State.HANDOFF_HUMAN
    return session
