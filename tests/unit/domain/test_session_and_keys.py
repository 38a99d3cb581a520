from datetime import UTC, datetime, timedelta

from atende.domain import keys
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.session import MAX_STORED_MESSAGES, new_session

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def message(message_id: str, at: datetime, text: str = "oi") -> MessageReceived:
    return MessageReceived(
        channel="whatsapp",
        event_id=message_id,
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=at,
        message_id=message_id,
        kind=MessageKind.TEXT,
        text=text,
    )


def session():
    return new_session(
        session_id="s1",
        tenant_id="demo",
        channel="whatsapp",
        contact_id="5511999990000",
        account_id="106540352242922",
        now=NOW,
    )


def test_the_inbox_is_in_provider_time_then_id_order_and_the_history_in_answer_order():
    later = message("wamid.B", NOW + timedelta(seconds=1))
    same_second_a = message("wamid.A", NOW)
    same_second_c = message("wamid.C", NOW)
    stored = session().admitted(later, NOW, NOW).admitted(same_second_c, NOW, NOW)
    stored = stored.admitted(same_second_a, NOW, NOW)
    assert [p.event.message_id for p in stored.inbox] == ["wamid.A", "wamid.C", "wamid.B"]
    assert stored.last_inbound_at == NOW + timedelta(seconds=1)
    for pending in stored.inbox:
        stored = stored.answered(pending.event)
    assert [m.id for m in stored.messages] == ["wamid.A", "wamid.C", "wamid.B"]
    assert stored.inbox == ()


def test_admitting_the_same_message_twice_stores_it_once():
    first = session().admitted(message("wamid.A", NOW), NOW, NOW)
    again = first.admitted(message("wamid.A", NOW, text="changed"), NOW, NOW)
    assert again is first
    assert (
        first.answered(message("wamid.A", NOW)).admitted(message("wamid.A", NOW), NOW, NOW).inbox
        == ()
    )


def test_only_messages_past_their_hold_are_ready_with_everything_written_before_them():
    hold = timedelta(seconds=1)
    stored = session().admitted(message("wamid.A", NOW), NOW, NOW)
    stored = stored.admitted(message("wamid.B", NOW + timedelta(seconds=1)), NOW - hold, NOW)
    stored = stored.admitted(message("wamid.C", NOW + timedelta(seconds=2)), NOW, NOW)
    assert [p.event.message_id for p in stored.ready(NOW, hold)] == ["wamid.A", "wamid.B"]
    assert stored.ready(NOW - hold, hold) == ()


def test_the_session_document_stays_bounded():
    stored = session()
    for index in range(MAX_STORED_MESSAGES + 5):
        event = message(f"wamid.{index:03d}", NOW + timedelta(seconds=index))
        stored = stored.admitted(event, NOW, NOW).answered(event)
    assert len(stored.messages) == MAX_STORED_MESSAGES
    assert stored.messages[-1].id == f"wamid.{MAX_STORED_MESSAGES + 4:03d}"


def test_an_admitted_message_is_remembered_after_the_history_has_forgotten_it():
    stored = session()
    first = message("wamid.first", NOW)
    stored = stored.admitted(first, NOW, NOW).answered(first)
    for index in range(MAX_STORED_MESSAGES + 5):
        event = message(f"wamid.{index:03d}", NOW + timedelta(seconds=index))
        stored = stored.admitted(event, NOW, NOW).answered(event)
    assert all(m.id != "wamid.first" for m in stored.messages)
    assert stored.has_message("wamid.first") and not stored.pending("wamid.first")
    # A quarantined message is forgotten, so that its replay is admitted again.
    waiting = stored.admitted(message("wamid.poison", NOW), NOW, NOW)
    assert not waiting.quarantined("wamid.poison").has_message("wamid.poison")


def test_keys_are_stable_and_do_not_contain_the_phone_number():
    first = keys.session_id("demo", "whatsapp", "5511999990000")
    assert first == keys.session_id("demo", "whatsapp", "5511999990000")
    assert "5511999990000" not in first
    assert keys.session_id("other", "whatsapp", "5511999990000") != first
    assert keys.dedupe_key("whatsapp", "demo", "e1") != keys.dedupe_key("whatsapp", "demo", "e2")
    assert keys.outbox_id("demo", first, "e1", 0) != keys.outbox_id("demo", first, "e1", 1)


def test_hash_parts_are_unambiguous():
    assert keys.stable_hash("ab", "c") != keys.stable_hash("a", "bc")


def test_task_ids_are_valid_cloud_tasks_ids_and_stable():
    task_id = keys.inbound_task_id("whatsapp", "wamid.HBg==")
    assert task_id == keys.inbound_task_id("whatsapp", "wamid.HBg==")
    assert all(char.isalnum() or char in "-_" for char in task_id)
    assert keys.outbound_task_id("abc") == "out-abc"
