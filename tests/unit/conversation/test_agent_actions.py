"""What agents do to a conversation: reply (taking it over from the bot), hand it back to the
bot where the contact was, or resolve it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from agent_support import (
    BOLETO,
    LATER,
    MESSAGES,
    TENANT,
    TTL,
    WITH_CPF,
    act,
    converse,
    decision_ctx,
    handed_off,
    transitions,
    turn_ctx,
)

from atende.conversation.agent_actions import agent_reply, hand_back, resolve
from atende.conversation.engine import ConversationEngine
from atende.domain.audit import AuditKind
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.handoff import HandoffStatus
from atende.domain.outbox import ReplyOrigin
from atende.fsm.machine import InvalidTransitionError
from atende.fsm.states import State
from atende.process_inbound.decisions import admit_message, answer_inbox
from atende.tenants.hours import BusinessHours, Interval

# -- agent reply -------------------------------------------------------------------------


def test_an_agent_replying_to_a_bot_conversation_takes_it_over() -> None:
    session = converse("Oi", "segunda via do boleto")
    assert session.state == State.WAITING_USER
    turn = agent_reply(session, "Oi, aqui é a Marta. Já vejo seu boleto.", "agent-7", turn_ctx())
    decision = act(session, turn)
    after = decision.session
    assert after.state == State.HANDOFF_HUMAN
    assert transitions(turn) == [("waiting_user", "handoff_human", "agent_took_over")]
    [record] = decision.outbox
    assert record.origin == ReplyOrigin.AGENT
    assert record.message.body == "Oi, aqui é a Marta. Já vejo seu boleto."  # type: ignore[union-attr]
    assert after.messages[-1].author == "agent"
    assert after.handoff is not None
    assert after.handoff.reason == "agent_took_over"
    assert after.handoff.queue == "financeiro"  # the conversation's route
    assert after.handoff.resume_state == State.WAITING_USER
    assert after.handoff.unread == 0
    assert {"action": "reply", "agent": "agent-7"} in [
        note.detail for note in turn.notes if note.kind == AuditKind.AGENT_ACTION
    ]
    assert decision.handoff is not None and decision.handoff.status == HandoffStatus.WAITING


def test_an_agent_reply_reads_the_contacts_unread_messages() -> None:
    session = converse("Oi", "quero falar com um atendente", "alô?", "tem alguém?")
    assert session.handoff is not None and session.handoff.unread == 2
    decision = act(session, agent_reply(session, "Estou aqui!", "agent-7", turn_ctx()))
    assert decision.session.state == State.HANDOFF_HUMAN
    assert decision.session.handoff is not None
    assert decision.session.handoff.unread == 0
    assert decision.handoff is not None and decision.handoff.unread == 0
    assert [r.origin for r in decision.outbox] == [ReplyOrigin.AGENT]


def test_an_agent_takes_over_even_off_hours_when_off_hours_handoffs_are_declined() -> None:
    closed_now = BusinessHours(
        weekly={"mon": (Interval(start="09:00", end="10:00"),)}, queue_handoff_off_hours=False
    )
    tenant = TENANT.model_copy(update={"business_hours": closed_now})
    session = converse("Oi", "segunda via do boleto", tenant=tenant)
    turn = agent_reply(session, "Olá!", "agent-7", turn_ctx(tenant))
    assert turn.session.state == State.HANDOFF_HUMAN
    assert turn.session.handoff is not None and turn.session.handoff.off_hours is False


@pytest.mark.parametrize(
    ("state", "resume"),
    [
        (State.NEW, State.TRIAGE),
        (State.TRIAGE, State.TRIAGE),
        (State.COLLECTING_INFO, State.COLLECTING_INFO),
        (State.WAITING_USER, State.WAITING_USER),
        (State.RESOLVED, State.TRIAGE),
        (State.CLOSED, State.TRIAGE),
        (State.ERROR, State.TRIAGE),
    ],
)
def test_an_agent_reply_takes_over_from_any_state_and_remembers_where_to_resume(
    state: State, resume: State
) -> None:
    session = converse("Oi").model_copy(update={"state": state, "route": None})
    turn = agent_reply(session, "Olá!", "agent-7", turn_ctx())
    assert turn.session.state == State.HANDOFF_HUMAN
    assert turn.session.handoff is not None
    assert turn.session.handoff.resume_state == resume
    assert turn.session.handoff.queue == "geral"  # no route yet: the tenant's default


# -- hand back ---------------------------------------------------------------------------


def test_handing_back_resumes_where_the_contact_was() -> None:
    session = handed_off("Oi", "segunda via do boleto", tenant=WITH_CPF)
    assert session.handoff is not None
    assert session.handoff.resume_state == State.COLLECTING_INFO
    turn = hand_back(session, "agent-7", turn_ctx(WITH_CPF))
    decision = act(session, turn, WITH_CPF)
    after = decision.session
    assert after.state == State.COLLECTING_INFO
    assert after.handoff is None
    assert [(r.message.body, r.origin) for r in decision.outbox] == [  # type: ignore[union-attr]
        (MESSAGES.handback, ReplyOrigin.BOT)
    ]
    assert transitions(turn) == [("handoff_human", "collecting_info", "agent_handed_back")]
    assert {"action": "release", "agent": "agent-7", "resume_state": "collecting_info"} in [
        note.detail for note in turn.notes if note.kind == AuditKind.AGENT_ACTION
    ]
    # The CRM's record says the bot has it again, and expires.
    assert decision.handoff is not None
    assert decision.handoff.status == HandoffStatus.RELEASED
    assert decision.handoff.closed_at == LATER
    assert decision.handoff.expire_at == LATER + TTL


@pytest.mark.parametrize("resume", [State.TRIAGE, State.COLLECTING_INFO, State.WAITING_USER])
def test_hand_back_goes_to_the_stored_resume_state(resume: State) -> None:
    session = handed_off("Oi")
    assert session.handoff is not None
    session = session.model_copy(
        update={"handoff": session.handoff.model_copy(update={"resume_state": resume})}
    )
    turn = hand_back(session, "agent-7", turn_ctx())
    assert turn.session.state == resume
    assert [reply.message.body for reply in turn.replies] == [MESSAGES.handback]  # type: ignore[union-attr]


@pytest.mark.parametrize("state", [state for state in State if state != State.HANDOFF_HUMAN])
def test_handing_back_a_conversation_no_agent_has_is_refused(state: State) -> None:
    session = converse("Oi").model_copy(update={"state": state})
    with pytest.raises(InvalidTransitionError) as raised:
        hand_back(session, "agent-7", turn_ctx())
    assert raised.value.source == state
    assert str(raised.value).startswith(f"{state.value} -> ")


def test_after_a_hand_back_the_bot_goes_on_collecting() -> None:
    session = handed_off("Oi", "segunda via do boleto", tenant=WITH_CPF)
    released = act(session, hand_back(session, "agent-7", turn_ctx(WITH_CPF)), WITH_CPF).session
    ctx = decision_ctx(WITH_CPF, LATER + timedelta(minutes=1))
    message = MessageReceived(
        channel="whatsapp",
        event_id="wamid.cpf",
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=LATER,
        message_id="wamid.cpf",
        kind=MessageKind.TEXT,
        text="12345678901",
    )
    admitted = admit_message(released, message, LATER, ctx)
    assert admitted is not None
    decision = answer_inbox(admitted, ConversationEngine(), ctx)
    assert decision.session.collected == {"cpf": "12345678901"}
    assert decision.session.state == State.WAITING_USER
    assert [r.message.body for r in decision.outbox] == [  # type: ignore[union-attr]
        f"{BOLETO.answer}\n\n{MESSAGES.anything_else}"
    ]


# -- resolve -----------------------------------------------------------------------------


def test_an_agent_resolving_ends_the_handoff() -> None:
    session = handed_off("Oi", "segunda via do boleto")
    turn = resolve(session, "agent-7", turn_ctx())
    decision = act(session, turn)
    assert decision.session.state == State.RESOLVED
    assert decision.session.handoff is None
    assert decision.session.topic is None
    assert decision.outbox == ()  # the agent already said goodbye themselves
    assert transitions(turn) == [("handoff_human", "resolved", "agent_resolved")]
    assert decision.handoff is not None
    assert decision.handoff.status == HandoffStatus.RESOLVED
    assert decision.handoff.queue == "financeiro"
    assert decision.handoff.expire_at == LATER + TTL


def test_a_resolved_conversation_reopens_for_the_bot_when_the_contact_writes() -> None:
    session = handed_off("Oi")
    resolved = act(session, resolve(session, "agent-7", turn_ctx())).session
    turn = ConversationEngine().respond(
        resolved,
        MessageReceived(
            channel="whatsapp",
            event_id="wamid.again",
            account_id="106540352242922",
            contact_id="5511999990000",
            occurred_at=LATER,
            message_id="wamid.again",
            kind=MessageKind.TEXT,
            text="e o boleto?",
        ),
        turn_ctx(),
    )
    assert turn.session.state == State.WAITING_USER
    assert turn.replies[0].message.body == MESSAGES.welcome_back  # type: ignore[union-attr]
