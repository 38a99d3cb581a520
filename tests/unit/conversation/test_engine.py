"""The conversation engine, message by message, as the processor runs it: each message is
admitted to the session and answered with `answer_inbox`, whose outbox and audit entries are
what the contact and the audit trail get."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from atende.ai.contract import AiFailure, AiOutcome, AiReply, AiRequest
from atende.conversation.builder import TurnBuilder
from atende.conversation.engine import ConversationEngine
from atende.conversation.idle import close_if_idle
from atende.conversation.step import ConversationStep, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.events import MediaRef, MessageKind, MessageReceived
from atende.domain.handoff import HandoffStatus
from atende.domain.outbox import ReplyOrigin
from atende.domain.session import Session
from atende.fsm import machine
from atende.fsm.guards import GuardContext
from atende.fsm.states import State
from atende.fsm.table import TABLE, Edge
from atende.ports import InboundDecision
from atende.process_inbound.decisions import (
    DecisionContext,
    admit_message,
    answer_inbox,
    apply_turn,
    decision_for,
)
from atende.tenants.hours import BusinessHours, Interval
from atende.tenants.tenant_config import (
    DEFAULT_CONFIG,
    AbusePolicy,
    AiConfig,
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


# -- greeting ----------------------------------------------------------------------------


def test_a_new_conversation_is_greeted_and_asked_what_the_contact_needs() -> None:
    decision = Chat().send("Oi, boa tarde")
    assert decision.session.state == State.TRIAGE
    assert bodies(decision) == [MESSAGES.greeting, MESSAGES.triage_question]
    assert transitions(decision) == [("new", "triage", "greeted")]


def test_off_hours_the_greeting_also_says_when_people_answer() -> None:
    decision = Chat(start=OFF_HOURS).send("Oi")
    assert decision.session.state == State.TRIAGE
    assert bodies(decision) == [MESSAGES.greeting, MESSAGES.off_hours, MESSAGES.triage_question]
    assert ("business_hours", "off_hours_notice", "closed_now") in policies(decision)


def test_a_tenant_without_business_hours_is_never_off_hours() -> None:
    decision = Chat(DEFAULT_CONFIG, start=OFF_HOURS).send("Oi")
    assert bodies(decision) == [MESSAGES.greeting, MESSAGES.triage_question]


# -- required fields ---------------------------------------------------------------------


def test_a_subject_with_required_fields_asks_the_first_field() -> None:
    chat = Chat(WITH_FIELDS)
    chat.send("Oi")
    decision = chat.send("Preciso da segunda via do boleto")
    assert decision.session.state == State.COLLECTING_INFO
    assert decision.session.collecting == "cpf"
    assert bodies(decision) == [CPF.prompt]
    assert transitions(decision) == [("triage", "collecting_info", "required_fields")]


def test_an_invalid_field_value_is_asked_again_and_not_kept() -> None:
    chat = Chat(WITH_FIELDS)
    chat.send("Oi")
    chat.send("Preciso da segunda via do boleto")
    decision = chat.send("meu cpf é 123.456")
    assert decision.session.state == State.COLLECTING_INFO
    assert decision.session.collected == {}
    assert bodies(decision) == [MESSAGES.invalid_field, CPF.prompt]
    assert policies(decision) == [("required_field", "invalid", "cpf")]
    assert transitions(decision) == []


def test_once_every_field_is_collected_the_saved_subject_is_answered() -> None:
    chat = Chat(WITH_FIELDS)
    chat.send("Oi")
    chat.send("Preciso da segunda via do boleto")
    asked_next = chat.send("12345678901")
    assert bodies(asked_next) == [PEDIDO.prompt]
    assert asked_next.session.collecting == "pedido"
    assert transitions(asked_next) == []  # still collecting: no transition

    decision = chat.send("A-7781")
    session = decision.session
    assert session.state == State.WAITING_USER
    assert session.collected == {"cpf": "12345678901", "pedido": "A-7781"}
    # The answer is for the subject given before the fields, not for the last message.
    assert bodies(decision) == [faq_reply(BOLETO)]
    assert transitions(decision) == [
        ("collecting_info", "answering", "fields_collected:faq"),
        ("answering", "waiting_user", "answered"),
    ]
    assert session.topic is None and session.collecting is None
    assert session.route == "financeiro"
    # The values are personal data: never in the audit trail.
    audit = str([entry.model_dump() for entry in decision.audit])
    assert "12345678901" not in audit and "A-7781" not in audit


def test_fields_are_asked_only_once_per_conversation() -> None:
    chat = Chat(WITH_FIELDS)
    chat.send("Oi")
    chat.send("segunda via do boleto")
    chat.send("12345678901")
    chat.send("A-7781")
    decision = chat.send("e qual o horário?")
    assert bodies(decision) == [faq_reply(HORARIO)]


# -- answers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reply", "reason", "route"),
    [
        ("Como pego a SEGUNDA VIA?", faq_reply(BOLETO), "answer:faq", "financeiro"),
        ("qual o horario?", faq_reply(HORARIO), "answer:faq", "geral"),
        ("cadê minha entrega?", MESSAGES.default_answer, "answer:default", "logistica"),
        ("quero cancelar meu plano", MESSAGES.default_answer, "answer:default", "geral"),
    ],
)
def test_a_question_is_answered_from_the_faq_or_with_the_default_answer(
    text: str, reply: str, reason: str, route: str
) -> None:
    chat = Chat()
    chat.send("Oi")
    decision = chat.send(text)
    assert bodies(decision) == [reply]
    assert decision.session.state == State.WAITING_USER
    assert transitions(decision) == [
        ("triage", "answering", reason),
        ("answering", "waiting_user", "answered"),
    ]
    assert decision.session.route == route


@pytest.mark.parametrize("text", ["Não, obrigado!", "valeu", "TCHAU", "só isso"])
def test_a_closing_word_after_an_answer_resolves_the_conversation(text: str) -> None:
    chat = chat_waiting()
    decision = chat.send(text)
    assert decision.session.state == State.RESOLVED
    assert bodies(decision) == [MESSAGES.goodbye]
    assert transitions(decision) == [("waiting_user", "resolved", "contact_done")]


def test_a_closing_word_inside_a_question_is_just_a_question() -> None:
    chat = chat_waiting()
    decision = chat.send("não entendi, obrigado")
    assert decision.session.state == State.WAITING_USER
    assert bodies(decision) == [MESSAGES.default_answer]


def _resolved() -> Chat:
    chat = chat_waiting()
    chat.send("obrigado")
    assert chat.state == State.RESOLVED
    return chat


def _closed() -> Chat:
    chat = chat_waiting()
    assert chat.session is not None
    ctx = chat.ctx(chat.clock + timedelta(hours=1))
    turn = close_if_idle(chat.session, chat.session.activity_seq, ctx.turn_context())
    assert turn is not None
    chat.session = decision_for(chat.session, apply_turn(turn, "idle:1", ctx), ctx).session
    assert chat.state == State.CLOSED
    return chat


@pytest.mark.parametrize(
    ("ended", "source"), [(_resolved, "resolved"), (_closed, "closed")], ids=["resolved", "closed"]
)
def test_a_message_to_an_ended_conversation_reopens_it_with_its_history(
    ended: Callable[[], Chat], source: str
) -> None:
    chat = ended()
    assert chat.session is not None
    earlier_messages = chat.session.messages
    earlier_transitions = chat.session.transitions
    decision = chat.send("Oi de novo, qual o horário?")
    session = decision.session
    assert bodies(decision) == [MESSAGES.welcome_back, faq_reply(HORARIO)]
    assert transitions(decision) == [
        (source, "triage", "reopened"),
        ("triage", "answering", "answer:faq"),
        ("answering", "waiting_user", "answered"),
    ]
    assert session.state == State.WAITING_USER
    assert session.messages[: len(earlier_messages)] == earlier_messages
    assert session.transitions[: len(earlier_transitions)] == earlier_transitions


# -- handoff -----------------------------------------------------------------------------


def test_asking_for_a_person_hands_off_to_the_queue_the_routing_picks() -> None:
    chat = Chat()
    chat.send("Oi")
    decision = chat.send("Quero falar com um ATENDENTE sobre a minha entrega")
    session = decision.session
    assert session.state == State.HANDOFF_HUMAN
    assert bodies(decision) == [MESSAGES.handoff_notice]
    assert session.handoff is not None
    assert session.handoff.reason == "handoff_keyword"
    assert session.handoff.queue == "logistica"
    assert session.handoff.resume_state == State.TRIAGE
    assert session.handoff.off_hours is False
    assert transitions(decision) == [("triage", "handoff_human", "handoff_keyword")]
    assert notes(decision, AuditKind.HANDOFF) == [
        {"reason": "handoff_keyword", "queue": "logistica", "off_hours": False}
    ]
    # The CRM's record of the conversation waiting for an agent.
    assert decision.handoff is not None
    assert decision.handoff.status == HandoffStatus.WAITING
    assert decision.handoff.queue == "logistica"


def test_a_person_asked_for_after_an_answer_goes_to_the_queue_of_that_subject() -> None:
    chat = Chat()
    chat.send("Oi")
    chat.send("segunda via do boleto")
    decision = chat.send("atendente")
    handoff = decision.session.handoff
    assert handoff is not None
    assert handoff.queue == "financeiro"
    # An agent handing back returns the contact to where they were.
    assert handoff.resume_state == State.WAITING_USER


def test_the_talk_to_a_person_button_hands_off() -> None:
    chat = Chat()
    chat.send("Oi")
    decision = chat.send("Falar com alguém", kind=MessageKind.INTERACTIVE, choice_id="handoff")
    assert decision.session.state == State.HANDOFF_HUMAN
    assert decision.session.handoff is not None
    assert decision.session.handoff.reason == "explicit_request"


def test_a_first_message_asking_for_a_person_hands_off_without_the_greeting() -> None:
    decision = Chat().send("atendente")
    assert decision.session.state == State.HANDOFF_HUMAN
    assert bodies(decision) == [MESSAGES.handoff_notice]
    assert decision.session.handoff is not None
    assert decision.session.handoff.resume_state == State.TRIAGE


def test_off_hours_a_tenant_that_does_not_queue_declines_the_handoff() -> None:
    tenant = SHOP.model_copy(
        update={"business_hours": HOURS.model_copy(update={"queue_handoff_off_hours": False})}
    )
    chat = Chat(tenant, start=OFF_HOURS)
    chat.send("Oi")
    decision = chat.send("quero falar com uma pessoa")
    assert decision.session.state == State.TRIAGE
    assert decision.session.handoff is None
    assert decision.handoff is None
    assert bodies(decision) == [MESSAGES.off_hours]
    assert ("business_hours", "handoff_declined", "off_hours") in policies(decision)
    assert transitions(decision) == []


def test_off_hours_a_tenant_that_queues_takes_the_handoff_and_says_so() -> None:
    chat = Chat(start=OFF_HOURS)
    chat.send("Oi")
    decision = chat.send("quero falar com uma pessoa")
    assert decision.session.state == State.HANDOFF_HUMAN
    assert bodies(decision) == [MESSAGES.handoff_off_hours]
    assert decision.session.handoff is not None
    assert decision.session.handoff.off_hours is True
    assert decision.handoff is not None and decision.handoff.off_hours is True


def test_while_a_person_has_the_conversation_the_bot_is_silent_but_keeps_every_message() -> None:
    chat = Chat()
    chat.send("Oi")
    chat.send("atendente")
    first = chat.send("alô?")
    second = chat.send("tem alguém aí? qual o horário?")
    for decision in (first, second):
        assert decision.outbox == ()
        assert decision.session.state == State.HANDOFF_HUMAN
        assert ("handoff", "bot_silent", "waiting_for_agent") in policies(decision)
    session = second.session
    contact_texts = [m.text for m in session.messages if m.author == "contact"]
    assert contact_texts[-2:] == ["alô?", "tem alguém aí? qual o horário?"]
    assert session.handoff is not None
    assert session.handoff.unread == 2
    assert session.handoff.last_inbound_at == chat.clock
    # The CRM's list shows the unread count.
    assert second.handoff is not None and second.handoff.unread == 2


# -- opt-out -----------------------------------------------------------------------------


def test_opting_out_while_a_person_has_the_conversation_holds_after_the_hand_back() -> None:
    chat = Chat()
    chat.send("Oi")
    chat.send("atendente")
    decision = chat.send("PARAR")
    assert decision.outbox == ()  # the agent reads it; the bot stays silent
    assert decision.session.opted_out is True
    assert ("opt_out", "opted_out", "opt_out_keyword") in policies(decision)
    again = chat.send("na verdade, pode continuar")
    assert again.outbox == () and again.session.opted_out is False
    assert ("opt_out", "resumed", "contact_wrote_again") in policies(again)


def test_a_thank_you_after_the_goodbye_does_not_reopen_the_conversation() -> None:
    chat = _resolved()
    decision = chat.send("obrigada!")
    assert decision.outbox == () and decision.session.state == State.RESOLVED
    assert policies(decision) == [("content", "ignored", "closing_after_resolved")]
    contact_texts = [m.text for m in decision.session.messages if m.author == "contact"]
    assert contact_texts[-1] == "obrigada!"  # kept all the same


def test_opting_out_sends_one_confirmation_the_opt_out_does_not_suppress() -> None:
    chat = chat_waiting()
    decision = chat.send("STOP")
    assert decision.session.opted_out is True
    assert decision.session.state == State.WAITING_USER
    assert [(r.message.body, r.origin) for r in decision.outbox] == [  # type: ignore[union-attr]
        (MESSAGES.opt_out_confirmation, ReplyOrigin.NOTICE)
    ]
    assert policies(decision) == [("opt_out", "opted_out", "opt_out_keyword")]


def test_a_message_that_mentions_stopping_is_not_an_opt_out() -> None:
    chat = chat_waiting()
    decision = chat.send("não quero parar de receber")
    assert decision.session.opted_out is False
    assert bodies(decision) == [MESSAGES.default_answer]


def test_writing_again_after_opting_out_resumes_automated_replies() -> None:
    chat = chat_waiting()
    chat.send("parar")
    decision = chat.send("Oi, qual o horário?")
    assert decision.session.opted_out is False
    assert ("opt_out", "resumed", "contact_wrote_again") in policies(decision)
    assert bodies(decision) == [faq_reply(HORARIO)]
    assert {r.origin for r in decision.outbox} == {ReplyOrigin.BOT}


# -- abuse -------------------------------------------------------------------------------

FLOOD_TENANT = SHOP.model_copy(
    update={"abuse": AbusePolicy(flood_limit=3, flood_window_seconds=60, cooldown_seconds=120)}
)


def test_a_flood_gets_exactly_one_notice_then_silence_until_the_cool_down_ends() -> None:
    second = timedelta(seconds=1)
    chat = Chat(FLOOD_TENANT)
    other = Chat(FLOOD_TENANT, session_id="s2")
    chat.send("Oi")
    chat.send("qual o horário?", after=second)
    chat.send("e o boleto?", after=second)
    flood = chat.send("e a entrega?", after=second)
    assert bodies(flood) == [MESSAGES.abuse_notice]
    assert policies(flood) == [("abuse", "cooldown", "flood")]

    ignored = [chat.send(f"alô {i}", after=20 * second) for i in range(3)]
    assert [bodies(decision) for decision in ignored] == [[], [], []]
    assert all(("abuse", "ignored", "cooling_down:flood") in policies(d) for d in ignored)
    assert chat.state == State.WAITING_USER  # nothing moved while ignored

    # Another contact of the same tenant writing meanwhile is answered normally.
    other.clock = chat.clock
    assert bodies(other.send("Oi")) == [MESSAGES.greeting, MESSAGES.triage_question]

    back = chat.send("qual o horário?", after=timedelta(minutes=2))
    assert bodies(back) == [faq_reply(HORARIO)]


def test_the_same_message_over_and_over_gets_one_notice() -> None:
    chat = chat_waiting()
    replies = [bodies(chat.send("Oi??")) for _ in range(6)]
    # The fourth identical text in a row (the default limit) starts the cool-down.
    assert replies[3] == [MESSAGES.abuse_notice]
    assert replies[4:] == [[], []]
    assert sum(reply == [MESSAGES.abuse_notice] for reply in replies) == 1


def test_an_oversized_message_gets_the_abuse_notice_not_an_answer() -> None:
    chat = chat_waiting()
    decision = chat.send("qual o horário? " + "a" * 2000)
    assert bodies(decision) == [MESSAGES.abuse_notice]
    assert policies(decision) == [("abuse", "cooldown", "oversized_input")]


# -- content the bot cannot read ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "media"),
    [
        (MessageKind.IMAGE, MediaRef(id="m1", mime_type="image/jpeg")),
        (MessageKind.AUDIO, MediaRef(id="m2", mime_type="audio/ogg")),
        (MessageKind.STICKER, MediaRef(id="m3")),
        (MessageKind.LOCATION, None),
        (MessageKind.UNSUPPORTED, None),
    ],
)
def test_a_message_without_text_gets_the_cannot_read_reply(
    kind: MessageKind, media: MediaRef | None
) -> None:
    chat = chat_waiting()
    decision = chat.send(None, kind=kind, media=media)
    assert bodies(decision) == [MESSAGES.cannot_read]
    assert policies(decision) == [("content", "cannot_read", kind.value)]
    assert decision.session.state == State.WAITING_USER


def test_the_caption_of_a_photo_is_read_as_its_text() -> None:
    chat = chat_waiting()
    photo = MediaRef(id="m1", mime_type="image/jpeg", caption="segunda via desse boleto")
    decision = chat.send(None, kind=MessageKind.IMAGE, media=photo)
    assert bodies(decision) == [faq_reply(BOLETO)]


@pytest.mark.parametrize("start", [Chat, chat_waiting], ids=["new", "waiting_user"])
def test_a_system_message_is_ignored(start: Callable[[], Chat]) -> None:
    chat = start()
    before = chat.session.state if chat.session else State.NEW
    decision = chat.send("O número mudou", kind=MessageKind.SYSTEM)
    assert decision.outbox == ()
    assert decision.session.state == before
    assert policies(decision) == [("content", "ignored", "system_message")]


# -- the AI step -------------------------------------------------------------------------

AI_TENANT = SHOP.model_copy(
    update={
        "ai": AiConfig(enabled=True, min_confidence=0.5),
        "prohibited_patterns": (r"reembolso\s+garantido",),
    }
)


def fake_ai(outcome: AiOutcome, calls: list[AiRequest]) -> Callable[[AiRequest], AiOutcome]:
    def suggest(request: AiRequest) -> AiOutcome:
        calls.append(request)
        return outcome

    return suggest


def ai_reply(text: str = "Temos planos a partir de R$ 49,90 por mês.", **fields: Any) -> AiReply:
    return AiReply(
        reply=text,
        next_state=fields.get("next_state", "waiting_user"),
        handoff=fields.get("handoff", False),
        confidence=fields.get("confidence", 0.9),
    )


def ai_chat(outcome: AiOutcome, tenant: TenantConfig = AI_TENANT) -> tuple[Chat, list[AiRequest]]:
    calls: list[AiRequest] = []
    chat = Chat(tenant, suggest=fake_ai(outcome, calls))
    chat.send("Oi")
    assert calls == []  # the greeting is deterministic
    return chat, calls


def test_a_good_ai_reply_is_sent_and_its_transition_made() -> None:
    chat, calls = ai_chat(ai_reply())
    decision = chat.send("Quanto custa o plano?")
    assert bodies(decision) == ["Temos planos a partir de R$ 49,90 por mês."]
    assert decision.session.state == State.WAITING_USER
    assert transitions(decision) == [("triage", "waiting_user", "ai")]
    assert notes(decision, AuditKind.AI_DECISION) == [
        {"outcome": "used", "next_state": "waiting_user", "confidence": 90, "handoff": False}
    ]
    [request] = calls
    assert request.state == "triage"
    assert request.history[-1].text == "Quanto custa o plano?"
    assert "handoff_human" in request.allowed_next_states
    # The AI can never be offered what only the system does, nor a jump the table forbids.
    assert not {"closed", "error", "resolved", "new"} & set(request.allowed_next_states)


def test_an_ai_failure_falls_back_to_the_deterministic_answer() -> None:
    chat, calls = ai_chat(AiFailure(reason="timeout"))
    decision = chat.send("qual o horário?")
    assert len(calls) == 1
    assert bodies(decision) == [faq_reply(HORARIO)]
    assert notes(decision, AuditKind.AI_DECISION) == [{"outcome": "fallback", "reason": "timeout"}]
    assert transitions(decision) == [
        ("triage", "answering", "answer:faq"),
        ("answering", "waiting_user", "answered"),
    ]


@pytest.mark.parametrize("target", ["closed", "error", "resolved", "new", "atendimento"])
def test_an_ai_reply_proposing_a_forbidden_state_falls_back(target: str) -> None:
    chat, _ = ai_chat(ai_reply(next_state=target))
    decision = chat.send("quero cancelar")
    assert bodies(decision) == [MESSAGES.default_answer]
    assert decision.session.state == State.WAITING_USER
    assert notes(decision, AuditKind.AI_DECISION) == [
        {"outcome": "fallback", "reason": "forbidden_transition"}
    ]


def test_an_ai_reply_making_a_promise_the_tenant_forbids_falls_back() -> None:
    chat, _ = ai_chat(ai_reply("Pode comprar tranquilo: REEMBOLSO   Garantido em 24h!"))
    decision = chat.send("e se eu não gostar?")
    assert bodies(decision) == [MESSAGES.default_answer]
    assert notes(decision, AuditKind.AI_DECISION) == [
        {"outcome": "fallback", "reason": "prohibited_promise"}
    ]


@pytest.mark.parametrize(
    "reply",
    [
        ai_reply("Vou chamar alguém da equipe.", handoff=True),
        ai_reply("Vou chamar alguém da equipe.", next_state="handoff_human"),
    ],
    ids=["handoff-flag", "handoff-state"],
)
def test_an_ai_reply_asking_for_a_person_hands_off(reply: AiReply) -> None:
    chat, _ = ai_chat(reply)
    decision = chat.send("meu pedido veio quebrado, quero resolver isso")
    session = decision.session
    assert session.state == State.HANDOFF_HUMAN
    assert bodies(decision) == ["Vou chamar alguém da equipe.", MESSAGES.handoff_notice]
    assert session.handoff is not None and session.handoff.reason == "ai_suggested"
    assert decision.handoff is not None and decision.handoff.status == HandoffStatus.WAITING


def test_the_ai_is_never_asked_when_the_tenant_has_it_off() -> None:
    tenant = AI_TENANT.model_copy(update={"ai": AiConfig(enabled=False)})
    chat, calls = ai_chat(ai_reply(), tenant)
    decision = chat.send("Quanto custa o plano?")
    assert calls == []
    assert bodies(decision) == [MESSAGES.default_answer]
    assert notes(decision, AuditKind.AI_DECISION) == []


def test_the_ai_never_sees_the_contacts_phone_number_or_email() -> None:
    chat, calls = ai_chat(ai_reply())
    chat.send("Meu e-mail é ana.souza@example.com e o celular (11) 98765-4321, quanto custa?")
    chat.send("E para o número 5511999990000?")
    assert len(calls) == 2
    sent = calls[-1].model_dump_json()
    for secret in ("ana.souza", "example.com", "98765", "4321", CONTACT):
        assert secret not in sent
    # The messages are there, redacted: the model still sees the conversation.
    user_turns = [turn.text for turn in calls[-1].history if turn.role == "user"]
    assert "Meu e-mail é [email] e o celular [phone], quanto custa?" in user_turns


def test_the_ai_never_sees_the_values_given_for_required_fields() -> None:
    nome = RequiredField(name="nome_completo", prompt="Qual é o seu nome completo?")
    tenant = AI_TENANT.model_copy(update={"required_fields": (nome,)})
    chat, calls = ai_chat(ai_reply(), tenant)
    chat.send("segunda via do boleto")
    chat.send("Ana Beatriz Souza")
    [request] = calls
    assert "Ana Beatriz Souza" not in request.model_dump_json()


# -- when the engine itself goes wrong ---------------------------------------------------


class JumpingEngine(ConversationEngine):
    """A faulty step: it jumps straight from triage to resolved."""

    def _next_step(self, turn: TurnBuilder, message: MessageReceived) -> None:
        turn.go(State.RESOLVED, "faulty_step")


def test_an_invalid_transition_is_audited_and_parks_the_conversation_in_error() -> None:
    chat = Chat()
    chat.send("Oi")
    decision = chat.send("qual o horário?", flow=JumpingEngine())
    assert notes(decision, AuditKind.INVALID_TRANSITION) == [
        {"from": "triage", "to": "resolved", "reason": "not in the transition table"}
    ]
    assert decision.session.state == State.ERROR
    assert transitions(decision) == [("triage", "error", "invalid_transition")]
    assert bodies(decision) == [MESSAGES.error_apology]

    recovered = chat.send("qual o horário?")
    assert transitions(recovered)[0] == ("error", "triage", "recovered")
    assert recovered.session.state == State.WAITING_USER
    assert bodies(recovered) == [faq_reply(HORARIO)]


def test_a_guard_refusing_mid_turn_parks_the_conversation_in_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_guard(_: GuardContext) -> bool:
        return False

    faulty = tuple(
        Edge(edge.source, edge.target, broken_guard, edge.meaning)
        if edge.target == State.TRIAGE and State.NEW in edge.source
        else edge
        for edge in TABLE
    )
    monkeypatch.setattr(machine, "TABLE", faulty)
    chat = Chat()
    decision = chat.send("Oi")
    assert notes(decision, AuditKind.INVALID_TRANSITION) == [
        {"from": "new", "to": "triage", "reason": "guard refused: broken_guard"}
    ]
    assert decision.session.state == State.ERROR
    assert bodies(decision) == [MESSAGES.error_apology]

    monkeypatch.undo()
    recovered = chat.send("Oi?")
    assert recovered.session.state != State.ERROR
    assert transitions(recovered)[0] == ("error", "triage", "recovered")


def test_respond_works_directly_with_a_turn_context() -> None:
    """The engine is pure: a session, a message and a context in, a turn out."""
    chat = Chat()
    chat.send("Oi")
    assert chat.session is not None
    message = MessageReceived(
        channel="whatsapp",
        event_id="wamid.direct",
        account_id="106540352242922",
        contact_id=CONTACT,
        occurred_at=NOW + timedelta(minutes=5),
        message_id="wamid.direct",
        kind=MessageKind.TEXT,
        text="qual o horário?",
    )
    ctx = TurnContext(tenant=SHOP, now=NOW + timedelta(minutes=5), text_limit=4096)
    before = chat.session.answered(message)
    turn = ConversationEngine().respond(before, message, ctx)
    assert [reply.message.body for reply in turn.replies] == [faq_reply(HORARIO)]  # type: ignore[union-attr]
    assert turn.session.state == State.WAITING_USER
    # The input session is not changed.
    assert before.state == State.TRIAGE
