"""`Chat`, the contact the engine tests write as: each message admitted to the session and
answered with `answer_inbox`, as the processor runs them, and the tenants they write to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from atende.ai.contract import AiOutcome, AiRequest
from atende.conversation.engine import ConversationEngine
from atende.conversation.step import ConversationStep
from atende.domain.audit import AuditKind
from atende.domain.decisions import InboundDecision
from atende.domain.events import MediaRef, MessageKind, MessageReceived
from atende.domain.session import Session
from atende.fsm.states import State
from atende.process_inbound.decisions import DecisionContext, admit_message, answer_inbox
from atende.tenants.hours import BusinessHours, Interval
from atende.tenants.tenant_config import (
    DEFAULT_CONFIG,
    FaqEntry,
    RequiredField,
    RoutingRule,
    TenantConfig,
)

#: Wednesday 25 November 2026, 12:00 in São Paulo: open.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
#: The same Wednesday, 20:00 in São Paulo: closed.
OFF_HOURS = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
HOLD = timedelta(seconds=1)
CONTACT = "5511999990000"

MESSAGES = DEFAULT_CONFIG.messages
HOURS = BusinessHours(
    timezone="America/Sao_Paulo",
    weekly={
        day: (Interval(start="09:00", end="18:00"),) for day in ("mon", "tue", "wed", "thu", "fri")
    },
    holidays=(date(2026, 12, 25),),
)
BOLETO = FaqEntry(
    keywords=("boleto", "segunda via"),
    answer="A segunda via do boleto está no app, em Pagamentos.",
    queue="financeiro",
)
HORARIO = FaqEntry(keywords=("horário",), answer="Atendemos de segunda a sexta, das 9h às 18h.")
SHOP = TenantConfig(
    business_hours=HOURS,
    faq=(BOLETO, HORARIO),
    routing=(RoutingRule(keywords=("entrega", "rastreio"), queue="logistica"),),
    default_queue="geral",
)
CPF = RequiredField(name="cpf", prompt="Qual é o seu CPF? Só os números.", pattern=r"\d{11}")
PEDIDO = RequiredField(name="pedido", prompt="Qual é o número do pedido?")
WITH_FIELDS = SHOP.model_copy(update={"required_fields": (CPF, PEDIDO)})


def faq_reply(entry: FaqEntry) -> str:
    return f"{entry.answer}\n\n{MESSAGES.anything_else}"


class Chat:
    """One contact writing to one tenant: each message goes through admit + answer_inbox."""

    def __init__(
        self,
        tenant: TenantConfig = SHOP,
        *,
        start: datetime = NOW,
        session_id: str = "s1",
        suggest: Callable[[AiRequest], AiOutcome] | None = None,
        flow: ConversationStep | None = None,
    ) -> None:
        self.tenant = tenant
        self.clock = start
        self.session_id = session_id
        self.suggest = suggest
        self.flow = flow or ConversationEngine()
        self.session: Session | None = None
        self._count = 0

    def ctx(self, now: datetime) -> DecisionContext:
        return DecisionContext(
            tenant_id="loja",
            session_id=self.session_id,
            now=now,
            outbox_ttl=timedelta(days=30),
            dedupe_ttl=timedelta(days=7),
            hold=HOLD,
            correlation_id="c1",
            tenant=self.tenant,
            suggest=self.suggest,
        )

    def send(
        self,
        text: str | None = "Oi",
        *,
        after: timedelta = timedelta(minutes=1),
        kind: MessageKind = MessageKind.TEXT,
        choice_id: str | None = None,
        media: MediaRef | None = None,
        flow: ConversationStep | None = None,
    ) -> InboundDecision:
        """The contact writes `after` their previous message; answered once the hold passed."""
        self._count += 1
        self.clock += after if self._count > 1 else timedelta()
        message_id = f"wamid.{self.session_id}.{self._count}"
        message = MessageReceived(
            channel="whatsapp",
            event_id=message_id,
            account_id="106540352242922",
            contact_id=CONTACT,
            occurred_at=self.clock,
            message_id=message_id,
            kind=kind,
            text=text,
            choice_id=choice_id,
            media=media,
        )
        ctx = self.ctx(self.clock + HOLD)
        admitted = admit_message(self.session, message, self.clock, ctx)
        assert admitted is not None
        decision = answer_inbox(admitted, flow or self.flow, ctx)
        self.session = decision.session
        return decision

    @property
    def state(self) -> State:
        assert self.session is not None
        return self.session.state


def bodies(decision: InboundDecision) -> list[str]:
    return [record.message.body for record in decision.outbox]  # type: ignore[union-attr]


def notes(decision: InboundDecision, kind: AuditKind) -> list[dict[str, Any]]:
    return [entry.detail for entry in decision.audit if entry.kind == kind]


def transitions(decision: InboundDecision) -> list[tuple[str, str, str]]:
    return [
        (detail["from"], detail["to"], detail["reason"])
        for detail in notes(decision, AuditKind.STATE_TRANSITION)
    ]


def policies(decision: InboundDecision) -> list[tuple[str, str, str]]:
    return [
        (detail["policy"], detail["outcome"], detail["reason"])
        for detail in notes(decision, AuditKind.POLICY_DECISION)
    ]


def chat_waiting(tenant: TenantConfig = SHOP, **kwargs: Any) -> Chat:
    """A conversation greeted and answered once: the bot waits for the contact."""
    chat = Chat(tenant, **kwargs)
    chat.send("Oi")
    chat.send("Qual o horário de vocês?")
    assert chat.state == State.WAITING_USER
    return chat


def chat_resolved() -> Chat:
    """A conversation the contact ended with a thank-you: resolved, goodbye sent."""
    chat = chat_waiting()
    chat.send("obrigado")
    assert chat.state == State.RESOLVED
    return chat
