"""The engine's optional AI step: a good reply is used, every other one falls back to the
deterministic answer, and the AI never sees personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chat_support import (
    CONTACT,
    HORARIO,
    MESSAGES,
    SHOP,
    Chat,
    bodies,
    faq_reply,
    notes,
    transitions,
)

from atende.ai.contract import AiFailure, AiOutcome, AiReply, AiRequest
from atende.domain.audit import AuditKind
from atende.domain.handoff import HandoffStatus
from atende.fsm.states import State
from atende.tenants.tenant_config import AiConfig, RequiredField, TenantConfig

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
