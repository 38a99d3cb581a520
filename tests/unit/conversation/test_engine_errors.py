"""When the engine itself goes wrong: an invalid transition or a refusing guard is audited,
the conversation parks in `error`, and the next message recovers it."""

from __future__ import annotations

import pytest
from chat_support import HORARIO, MESSAGES, Chat, bodies, faq_reply, notes, transitions

from atende.conversation.builder import TurnBuilder
from atende.conversation.engine import ConversationEngine
from atende.domain.audit import AuditKind
from atende.domain.events import MessageReceived
from atende.fsm import machine
from atende.fsm.guards import GuardContext
from atende.fsm.states import State
from atende.fsm.table import TABLE, Edge


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
