"""The handoff record the CRM reads: written only when the handoff changes, without personal
data, and expiring once the handoff ended."""

from __future__ import annotations

import pytest
from agent_support import LATER, NOW, TTL, converse, handed_off

from atende.domain.handoff import HandoffStatus, project
from atende.domain.session import HandoffInfo
from atende.fsm.states import State


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
