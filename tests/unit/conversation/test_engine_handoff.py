"""The engine handing a conversation to a person: on request, to the queue the routing or the
subject picks, off hours as the tenant chose, and silent while the person has it."""

from __future__ import annotations

from chat_support import (
    HOURS,
    MESSAGES,
    OFF_HOURS,
    SHOP,
    Chat,
    bodies,
    notes,
    policies,
    transitions,
)

from atende.domain.audit import AuditKind
from atende.domain.events import MessageKind
from atende.domain.handoff import HandoffStatus
from atende.fsm.states import State


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
