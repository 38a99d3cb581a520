"""Calling the AI outside the transaction: the suggestions are recorded once per distinct
request, then replayed inside it, and anything the plan did not cover falls back."""

from __future__ import annotations

from agent_support import BOLETO, HOLD, LATER, MESSAGES, TENANT, converse, decision_ctx

from atende.ai.contract import AiFailure, AiReply, AiRequest, AiUnavailableError
from atende.ai.request import build_request
from atende.conversation.engine import ConversationEngine
from atende.domain.audit import AuditKind
from atende.domain.events import MessageKind, MessageReceived
from atende.process_inbound.ai_plan import RecordingSuggester, ReplaySuggester
from atende.process_inbound.decisions import admit_message, answer_inbox
from atende.tenants.tenant_config import AiConfig

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
