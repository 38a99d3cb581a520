"""send_outbound on the Firestore emulator: a reply is claimed and recorded by writes whose
update-time precondition is the version check (no read), and a record that changed in
between is read and decided in a unit of work instead."""

from datetime import timedelta

import pytest
from tests.integration.test_firestore_stores import T0, FixedClock, message
from tests.integration.uow_steps import steps_admit, steps_answer_committed

from atende.adapters.checkpoints import NoCheckpoints
from atende.adapters.firestore.dead_letters import FirestoreDeadLetterStore
from atende.adapters.firestore.outbox_store import FirestoreOutboxStore
from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork
from atende.conversation.engine import ConversationEngine
from atende.domain import keys
from atende.domain.outbox import OutboxStatus
from atende.errors import ProviderTransientError, WaitingForEarlierReplyError
from atende.ports import SendResult
from atende.process_inbound.decisions import DecisionContext, admit_message, answer_inbox
from atende.send_outbound.sender import OutboundSender
from atende.tasks.follow_ups import FollowUps

SESSION = keys.session_id("demo", "whatsapp", "5511999990000")


class Queue:
    def __init__(self):
        self.tasks = []

    def enqueue(self, task):
        self.tasks.append(task)
        return True


class Provider:
    def __init__(self):
        self.sent = []
        self.fail = False

    def send(self, record):
        if self.fail:
            error = ProviderTransientError("provider down", code="provider_5xx")
            error.attempts, error.failures = 1, ("http_503",)
            raise error
        self.sent.append(record.id)
        return SendResult(provider_message_id=f"wamid.out.{len(self.sent)}", attempts=1)


class CountingUnits:
    """The Firestore units of work, counted: the fast path runs none."""

    def __init__(self, units):
        self.units = units
        self.runs = 0

    def run(self, work):
        self.runs += 1
        return self.units.run(work)


def answered(db, text="Oi", message_id="wamid.A", clock=None):
    """A message admitted and answered as processing does it; the send task it enqueues."""
    clock = clock or FixedClock()
    store = FirestoreUnitsOfWork(db, clock, NoCheckpoints())
    ctx = DecisionContext(
        tenant_id="demo",
        session_id=SESSION,
        now=clock.now(),
        outbox_ttl=timedelta(days=30),
        dedupe_ttl=timedelta(days=7),
        hold=timedelta(seconds=1),
    )
    event = message(message_id, text=text, at=clock.now())
    steps_admit(store, SESSION, lambda current: admit_message(current, event, T0 - ctx.hold, ctx))
    written, at = steps_answer_committed(
        store, SESSION, lambda current: answer_inbox(current, ConversationEngine(), ctx)
    )
    queue = Queue()
    FollowUps(queue).replies(written.outbox, at, "corr")
    [task] = queue.tasks
    return store, written.outbox, task.body


def sender(db, store, provider, clock=None):
    units = CountingUnits(store)
    clock = clock or FixedClock()
    outbound = OutboundSender(
        units,
        FirestoreOutboxStore(db, clock),
        {"whatsapp": provider},
        clock,
        NoCheckpoints(),
        timedelta(minutes=5),
        order_pauses=(),
    )
    return outbound, units


def stored(db, outbox_id):
    return db.collection("outbox").document(outbox_id).get().to_dict()


def test_a_turns_replies_are_claimed_and_recorded_in_order_without_a_unit_of_work(db):
    store, records, body = answered(db)
    provider = Provider()
    outbound, units = sender(db, store, provider)
    assert outbound.handle(body, "corr") == "sent"
    assert provider.sent == [r.id for r in records]
    assert units.runs == 0  # both preconditions held: no read, no transaction
    for record in records:
        saved = stored(db, record.id)
        assert saved["status"] == "sent" and saved["last_call"] == "accepted"
        assert [h["status"] for h in saved["history"]] == ["sending", "sent"]
    # A redelivery of the task sends nothing again.
    assert outbound.handle(body, "corr") == "already_sent"
    assert provider.sent == [r.id for r in records]


def test_a_record_changed_since_its_commit_is_read_first(db):
    store, records, body = answered(db)
    # An earlier attempt claimed the first reply and died mid-send: the provider may have it.
    db.collection("outbox").document(records[0].id).update({"status": "sending"})
    provider = Provider()
    outbound, units = sender(db, store, provider)
    assert outbound.handle(body, "corr") == "needs_review,sent"
    assert stored(db, records[0].id)["status"] == "needs_review"
    assert provider.sent == [records[1].id]  # held, never sent twice; the next one goes
    assert units.runs == 1


def test_a_status_that_lands_between_claim_and_record_is_kept(db):
    store, records, body = answered(db)

    class StatusDuringSend(Provider):
        def send(self, record):
            result = super().send(record)
            db.collection("outbox").document(record.id).update(
                {"delivery_status": "message_delivered", "provider_message_id": "wamid.early"}
            )
            return result

    provider = StatusDuringSend()
    outbound, units = sender(db, store, provider)
    assert outbound.handle(body, "corr") == "sent"
    for record in records:
        saved = stored(db, record.id)
        assert saved["status"] == "sent" and saved["delivery_status"] == "message_delivered"
        assert saved["provider_message_id"] == "wamid.early"
    assert units.runs == 2  # each record step found the record changed, and read it


def test_a_reply_waits_for_the_unsettled_reply_of_an_earlier_turn(db):
    clock = FixedClock()
    store, first_turn, first_body = answered(db, clock=clock)
    _, second_turn, second_body = answered(db, "qual o horário de vocês?", "wamid.B", clock=clock)
    assert second_turn[0].after == first_turn[-1].id
    provider = Provider()
    outbound, _ = sender(db, store, provider, clock)
    with pytest.raises(WaitingForEarlierReplyError):
        outbound.handle(second_body, "corr")
    assert provider.sent == []
    assert outbound.handle(first_body, "corr") == "sent"
    assert outbound.handle(second_body, "corr") == "sent"
    assert provider.sent == [r.id for r in (*first_turn, *second_turn)]


def test_a_transient_failure_stops_the_turn_and_its_retry_sends_the_rest_once(db):
    store, records, body = answered(db)
    provider = Provider()
    provider.fail = True
    outbound, _ = sender(db, store, provider)
    with pytest.raises(ProviderTransientError):
        outbound.handle(body, "corr")
    assert stored(db, records[0].id)["status"] == "retrying"
    assert stored(db, records[1].id)["status"] == "pending"
    provider.fail = False
    assert outbound.handle(body, "corr") == "sent"
    assert provider.sent == [r.id for r in records]


def test_a_dead_lettered_reply_is_sent_again_only_when_re_armed(db):
    store, records, body = answered(db)
    provider = Provider()
    provider.fail = True
    outbound, _ = sender(db, store, provider)
    with pytest.raises(ProviderTransientError):
        outbound.handle(body, "corr")
    db.collection("outbox").document(records[0].id).update({"status": "dead_lettered"})
    dead_letters = FirestoreDeadLetterStore(db)
    assert dead_letters.rearm_send(records[0].id, T0)
    assert stored(db, records[0].id)["status"] == "retrying"
    assert not dead_letters.rearm_send(records[0].id, T0)  # only a dead-lettered record
    provider.fail = False
    assert outbound.handle(body, "corr") == "sent"
    assert provider.sent == [r.id for r in records]


def test_an_opt_out_suppresses_the_replies_not_yet_sent_and_the_send_skips_them(db):
    clock = FixedClock()
    store, greeting, body = answered(db, clock=clock)
    _, confirmation, _ = answered(db, "parar", "wamid.B", clock=clock)
    assert {stored(db, r.id)["status"] for r in greeting} == {OutboxStatus.SUPPRESSED.value}
    assert [r.origin for r in confirmation] == ["notice"]
    provider = Provider()
    outbound, _ = sender(db, store, provider)
    assert outbound.handle(body, "corr") == "already_suppressed"
    assert provider.sent == []
