"""Closing idle conversations: with the tenant's idle message or silently, and never one that
moved on, has unanswered messages, is with an agent or is already closed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from agent_support import (
    LATER,
    MESSAGES,
    TENANT,
    WITH_CPF,
    act,
    converse,
    decision_ctx,
    handed_off,
    transitions,
    turn_ctx,
)

from atende.conversation.idle import close_if_idle
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.session import Session
from atende.fsm.states import State
from atende.process_inbound.decisions import admit_message


@pytest.mark.parametrize(
    "texts",
    [("Oi", "segunda via do boleto"), ("Oi",)],
    ids=["waiting_user", "triage"],
)
def test_an_idle_conversation_is_closed_with_the_idle_message(texts: tuple[str, ...]) -> None:
    session = converse(*texts)
    turn = close_if_idle(session, session.activity_seq, turn_ctx())
    assert turn is not None
    assert turn.session.state == State.CLOSED
    assert [reply.message.body for reply in turn.replies] == [MESSAGES.idle_close]  # type: ignore[union-attr]
    assert transitions(turn) == [(session.state.value, "closed", "idle_timeout")]


def test_an_idle_conversation_collecting_a_field_forgets_the_question() -> None:
    session = converse("Oi", "segunda via do boleto", tenant=WITH_CPF)
    assert session.collecting == "cpf" and session.topic is not None
    turn = close_if_idle(session, session.activity_seq, turn_ctx(WITH_CPF))
    assert turn is not None
    assert turn.session.state == State.CLOSED
    assert turn.session.collecting is None and turn.session.topic is None


def test_a_resolved_conversation_is_closed_silently() -> None:
    session = converse("Oi", "segunda via do boleto", "obrigado")
    assert session.state == State.RESOLVED
    turn = close_if_idle(session, session.activity_seq, turn_ctx())
    assert turn is not None
    assert turn.session.state == State.CLOSED
    assert turn.replies == ()


@pytest.mark.parametrize("text", ["", "   "])
def test_a_tenant_with_no_idle_message_closes_silently(text: str) -> None:
    tenant = TENANT.model_copy(
        update={"messages": TENANT.messages.model_copy(update={"idle_close": text})}
    )
    session = converse("Oi", "segunda via do boleto", tenant=tenant)
    turn = close_if_idle(session, session.activity_seq, turn_ctx(tenant))
    assert turn is not None and turn.session.state == State.CLOSED
    assert turn.replies == ()


def _moved_on() -> tuple[Session, int]:
    session = converse("Oi", "segunda via do boleto")
    return session, session.activity_seq - 1


def _inbox_not_empty() -> tuple[Session, int]:
    session = converse("Oi", "segunda via do boleto")
    ctx = decision_ctx(TENANT, LATER)
    message = MessageReceived(
        channel="whatsapp",
        event_id="wamid.new",
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=LATER,
        message_id="wamid.new",
        kind=MessageKind.TEXT,
        text="espera, mais uma coisa",
    )
    admitted = admit_message(session, message, LATER, ctx)
    assert admitted is not None
    return admitted, admitted.activity_seq


def _handed_off() -> tuple[Session, int]:
    session = handed_off("Oi")
    return session, session.activity_seq


def _closed() -> tuple[Session, int]:
    session = converse("Oi", "segunda via do boleto")
    turn = close_if_idle(session, session.activity_seq, turn_ctx())
    assert turn is not None
    closed = act(session, turn).session
    return closed, closed.activity_seq


@pytest.mark.parametrize(
    "situation",
    [_moved_on, _inbox_not_empty, _handed_off, _closed],
    ids=["activity_moved_on", "inbox_not_empty", "handoff_human", "closed"],
)
def test_a_conversation_that_is_not_idle_is_left_alone(
    situation: Callable[[], tuple[Session, int]],
) -> None:
    session, activity_seq = situation()
    assert close_if_idle(session, activity_seq, turn_ctx()) is None


def test_every_answered_batch_moves_the_activity_on() -> None:
    one = converse("Oi")
    two = converse("Oi", "segunda via do boleto")
    assert two.activity_seq == one.activity_seq + 1
    # A timer set after the first message finds the conversation moved on.
    assert close_if_idle(two, one.activity_seq, turn_ctx()) is None
