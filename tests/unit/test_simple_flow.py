from datetime import UTC, datetime

import pytest

from atende.conversation import simple_flow as flow
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.messages import TextMessage


def message(
    text: str | None = "oi", kind: MessageKind = MessageKind.TEXT, choice: str | None = None
):
    return MessageReceived(
        channel="whatsapp",
        event_id="e",
        account_id="a",
        contact_id="c",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        message_id="m",
        kind=kind,
        text=text,
        choice_id=choice,
    )


def bodies(turn):
    return [reply.body for reply in turn.replies if isinstance(reply, TextMessage)]


def test_a_new_contact_gets_the_greeting_then_the_triage_question():
    turn = flow.SimpleFlow().respond(flow.NEW, message("Oi"))
    assert turn.state == flow.TRIAGE
    assert bodies(turn) == [flow.GREETING, flow.TRIAGE_QUESTION]


@pytest.mark.parametrize(
    "text", ["quero um ATENDENTE", "falar com humano!", "Atendimento, por favor"]
)
def test_a_handoff_keyword_hands_the_session_to_a_person(text):
    turn = flow.SimpleFlow().respond(flow.TRIAGE, message(text))
    assert (turn.state, turn.handoff, bodies(turn)) == (flow.HANDOFF, True, [flow.HANDOFF_NOTICE])


def test_other_triage_messages_get_a_follow_up():
    turn = flow.SimpleFlow().respond(flow.TRIAGE, message("meu pedido atrasou"))
    assert (turn.state, bodies(turn)) == (flow.TRIAGE, [flow.FOLLOW_UP])


def test_the_bot_stays_silent_in_handoff():
    turn = flow.SimpleFlow().respond(flow.HANDOFF, message("alô?"))
    assert turn.replies == () and turn.state == flow.HANDOFF


def test_unreadable_messages_get_a_polite_answer_and_system_notices_none():
    unsupported = flow.SimpleFlow().respond(flow.TRIAGE, message(None, MessageKind.UNSUPPORTED))
    assert bodies(unsupported) == [flow.CANNOT_READ]
    system = flow.SimpleFlow().respond(flow.TRIAGE, message("changed number", MessageKind.SYSTEM))
    assert system.replies == ()


def test_a_handoff_button_counts_like_the_keyword():
    turn = flow.SimpleFlow().respond(
        flow.TRIAGE, message("Falar", MessageKind.INTERACTIVE, "handoff")
    )
    assert turn.handoff
