"""What agents do to a conversation (reply, hand back, resolve), closing idle conversations,
the handoff record the CRM reads, and calling the AI outside the transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from atende.ai.contract import AiFailure, AiReply, AiRequest, AiUnavailableError, Suggester
from atende.ai.request import build_request
from atende.conversation.agent_actions import agent_reply, hand_back, resolve
from atende.conversation.engine import ConversationEngine
from atende.conversation.idle import close_if_idle
from atende.conversation.step import Turn, TurnContext
from atende.domain.audit import AuditKind
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.handoff import HandoffStatus, project
from atende.domain.outbox import ReplyOrigin
from atende.domain.session import HandoffInfo, Session
from atende.fsm.machine import InvalidTransitionError
from atende.fsm.states import State
from atende.ports import InboundDecision
from atende.process_inbound.ai_plan import RecordingSuggester, ReplaySuggester
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
    AiConfig,
    FaqEntry,
    RequiredField,
    TenantConfig,
)

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


# -- idle --------------------------------------------------------------------------------


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


# -- the handoff record ------------------------------------------------------------------


def test_no_handoff_record_is_written_when_the_handoff_did_not_change() -> None:
    before = converse("Oi")
    after = converse("Oi", "segunda via do boleto")
    assert project(before, after, LATER, TTL) is None
    waiting = handed_off("Oi")
    assert project(waiting, waiting.model_copy(update={"topic": "x"}), LATER, TTL) is None


def test_a_handoff_writes_a_waiting_record_without_personal_data() -> None:
    before = converse("Oi")
    after = handed_off("Oi")
    record = project(before, after, LATER, TTL)
    assert record is not None
    assert record.status == HandoffStatus.WAITING
    assert (record.session_id, record.tenant_id, record.channel) == ("s1", "loja", "whatsapp")
    assert record.queue == "geral" and record.reason == "handoff_keyword"
    assert record.updated_at == LATER
    assert record.expire_at is None and record.closed_at is None
    assert "5511999990000" not in record.model_dump_json()


@pytest.mark.parametrize(
    ("end_state", "status"),
    [
        (State.RESOLVED, HandoffStatus.RESOLVED),
        (State.TRIAGE, HandoffStatus.RELEASED),
        (State.WAITING_USER, HandoffStatus.RELEASED),
    ],
)
def test_an_ended_handoff_is_resolved_or_released_and_expires(
    end_state: State, status: HandoffStatus
) -> None:
    before = handed_off("Oi")
    assert before.handoff is not None
    after = before.model_copy(update={"handoff": None, "state": end_state})
    record = project(before, after, LATER, TTL)
    assert record is not None
    assert record.status == status
    assert record.queue == before.handoff.queue
    assert record.requested_at == before.handoff.requested_at
    assert record.closed_at == LATER
    assert record.expire_at == LATER + TTL


def test_a_new_unread_message_updates_the_waiting_record() -> None:
    before = handed_off("Oi")
    assert before.handoff is not None
    info = before.handoff.model_copy(update={"unread": 3, "last_inbound_at": LATER})
    record = project(before, before.model_copy(update={"handoff": info}), LATER, TTL)
    assert record is not None
    assert record.status == HandoffStatus.WAITING
    assert record.unread == 3 and record.last_inbound_at == LATER


def test_handoff_info_defaults() -> None:
    info = HandoffInfo(requested_at=NOW, reason="r", queue="q")
    assert info.unread == 0 and info.off_hours is False
    assert info.resume_state == State.WAITING_USER


# -- calling the AI outside the transaction ----------------------------------------------

AI_TENANT = TENANT.model_copy(update={"ai": AiConfig(enabled=True)})
GOOD = AiReply(reply="Claro, posso ajudar.", next_state="waiting_user", handoff=False, confidence=1)


def request(text: str) -> AiRequest:
    return build_request(
        tenant_id="loja",
        channel="whatsapp",
        state="triage",
        allowed_next_states=("waiting_user",),
        history=(("user", text),),
        tenant=AI_TENANT,
        text_limit=4096,
        budget_chars=4000,
        model=None,
    )


class CountingAI:
    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[AiRequest] = []
        self.fail = fail

    def suggest(self, request: AiRequest) -> AiReply:
        self.calls.append(request)
        if self.fail is not None:
            raise AiUnavailableError(self.fail)
        return GOOD


def test_recording_calls_the_ai_once_per_distinct_request() -> None:
    ai = CountingAI()
    recording = RecordingSuggester(ai)
    assert recording(request("quanto custa?")) == GOOD
    assert recording(request("quanto custa?")) == GOOD
    assert recording(request("e o frete?")) == GOOD
    assert [call.history[-1].text for call in ai.calls] == ["quanto custa?", "e o frete?"]
    assert len(recording.recorded) == 2


def test_an_unavailable_ai_is_recorded_as_a_failure_and_not_called_again() -> None:
    ai = CountingAI(fail="timeout")
    recording = RecordingSuggester(ai)
    assert recording(request("quanto custa?")) == AiFailure(reason="timeout")
    assert recording(request("quanto custa?")) == AiFailure(reason="timeout")
    assert len(ai.calls) == 1


def test_replay_answers_the_recorded_request_and_stale_plan_for_any_other() -> None:
    recording = RecordingSuggester(CountingAI())
    recording(request("quanto custa?"))
    replay = ReplaySuggester(recording.recorded)
    assert replay(request("quanto custa?")) == GOOD
    assert replay(request("quanto custa? ")) == AiFailure(reason="stale_plan")
    # The replay keeps its own copy: later recordings do not leak into it.
    recording(request("e o frete?"))
    assert replay(request("e o frete?")) == AiFailure(reason="stale_plan")


def test_the_engine_run_twice_uses_the_recorded_suggestion_inside_the_transaction() -> None:
    session = converse("Oi")
    ai = CountingAI()
    recording = RecordingSuggester(ai)
    message = MessageReceived(
        channel="whatsapp",
        event_id="wamid.q",
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=LATER,
        message_id="wamid.q",
        kind=MessageKind.TEXT,
        text="quanto custa?",
    )
    admitted = admit_message(session, message, LATER, decision_ctx(AI_TENANT, LATER))
    assert admitted is not None
    later = LATER + HOLD
    planned = answer_inbox(
        admitted, ConversationEngine(), decision_ctx(AI_TENANT, later, recording)
    )
    replayed = answer_inbox(
        admitted,
        ConversationEngine(),
        decision_ctx(AI_TENANT, later, ReplaySuggester(recording.recorded)),
    )
    assert len(ai.calls) == 1
    assert [r.message.body for r in replayed.outbox] == ["Claro, posso ajudar."]  # type: ignore[union-attr]
    assert [r.id for r in replayed.outbox] == [r.id for r in planned.outbox]

    # Another message came between the plan and the transaction: the AI was never asked
    # about it, so it gets the deterministic answer, audited.
    second = message.model_copy(
        update={"event_id": "wamid.r", "message_id": "wamid.r", "text": "e o boleto?",
                "occurred_at": LATER + HOLD}
    )  # fmt: skip
    grown = admit_message(admitted, second, LATER, decision_ctx(AI_TENANT, LATER))
    assert grown is not None
    stale = answer_inbox(
        grown,
        ConversationEngine(),
        decision_ctx(AI_TENANT, later, ReplaySuggester(recording.recorded)),
    )
    assert [r.message.body for r in stale.outbox] == [  # type: ignore[union-attr]
        "Claro, posso ajudar.",
        f"{BOLETO.answer}\n\n{MESSAGES.anything_else}",
    ]
    assert [
        entry.detail["outcome"] for entry in stale.audit if entry.kind == AuditKind.AI_DECISION
    ] == ["used", "fallback"]
    assert {"outcome": "fallback", "reason": "stale_plan"} in [
        entry.detail for entry in stale.audit if entry.kind == AuditKind.AI_DECISION
    ]
    assert len(ai.calls) == 1
