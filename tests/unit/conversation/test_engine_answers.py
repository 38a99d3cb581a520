"""The engine answering a contact, message by message as the processor runs it: the greeting,
the required fields, answers from the FAQ or the default answer, the goodbye, and reopening
an ended conversation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from chat_support import (
    BOLETO,
    CONTACT,
    CPF,
    HORARIO,
    MESSAGES,
    NOW,
    OFF_HOURS,
    PEDIDO,
    SHOP,
    WITH_FIELDS,
    Chat,
    bodies,
    chat_resolved,
    chat_waiting,
    faq_reply,
    policies,
    transitions,
)

from atende.conversation.engine import ConversationEngine
from atende.conversation.idle import close_if_idle
from atende.conversation.step import TurnContext
from atende.domain.events import MessageKind, MessageReceived
from atende.fsm.states import State
from atende.process_inbound.decisions import apply_turn, decision_for
from atende.tenants.tenant_config import DEFAULT_CONFIG

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
    ("ended", "source"),
    [(chat_resolved, "resolved"), (_closed, "closed")],
    ids=["resolved", "closed"],
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


# -- the engine on its own ---------------------------------------------------------------


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
