"""send_outbound hands the turn on: each reply's task is enqueued by the one before it, so
no reply's task spins waiting for its turn, and a stuck reply is bypassed after the wait."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from atende.domain.messages import TextMessage
from atende.domain.outbox import OutboxRecord, OutboxStatus
from atende.domain.session import PendingReply, Session
from atende.errors import ProviderTransientError, WaitingForEarlierReplyError
from atende.ports import FinishedSend, SendResult
from atende.send_outbound.sender import OutboundSender
from atende.tasks.contracts import OutboundTask
from atende.tasks.follow_ups import FollowUps

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAX_WAIT = timedelta(seconds=300)


class Clock:
    def __init__(self):
        self.value = T0

    def now(self):
        return self.value


class Store:
    """The OutboxStore contract in memory: records, one session's pending order."""

    def __init__(self, ids):
        self.records = {i: record(i, n) for n, i in enumerate(ids)}
        pending = tuple(PendingReply(outbox_id=i, order_key=f"{n:04d}", queued_at=T0)
                        for n, i in enumerate(ids))  # fmt: skip
        self.session = Session.model_construct(outbound_pending=pending, opted_out=False)

    def _release(self, outbox_id):
        kept = tuple(p for p in self.session.outbound_pending if p.outbox_id != outbox_id)
        self.session = self.session.model_copy(update={"outbound_pending": kept})

    def begin_send(self, outbox_id, decide):
        current = self.records.get(outbox_id)
        gate = decide(current, self.session)
        if gate.action in ("send", "hold", "suppress") and gate.record is not None:
            self.records[outbox_id] = gate.record
        if gate.action in ("hold", "suppress") or (current is not None and current.settled):
            self._release(outbox_id)
        return replace(gate, pending=self.session.outbound_pending)

    def finish_send(self, outbox_id, apply, *, release, audit):
        self.records[outbox_id] = apply(self.records[outbox_id])
        if release:
            self._release(outbox_id)
        return FinishedSend(self.records[outbox_id], self.session.outbound_pending)


def record(outbox_id, n):
    return OutboxRecord(
        id=outbox_id, tenant_id="demo", channel="whatsapp", session_id="s1",
        account_id="106540352242922", recipient="5511999990000",
        message=TextMessage(body=f"reply {n}"), inbound_event_id="wamid.A", reply_index=n,
        order_key=f"{n:04d}", created_at=T0, updated_at=T0, expire_at=T0 + timedelta(days=30),
    )  # fmt: skip


class Provider:
    def __init__(self):
        self.sent = []
        self.fail = False

    def send(self, record):
        if self.fail:
            raise ProviderTransientError("provider down", code="provider_5xx")
        self.sent.append(record.id)
        return SendResult(provider_message_id=f"wamid.out.{record.id}", attempts=1)


class Queue:
    def __init__(self):
        self.tasks = []

    def enqueue(self, task):
        self.tasks.append(OutboundTask.model_validate_json(task.body).outbox_id)
        return True


class NoCheckpoints:
    def reached(self, name):
        return None


def sender(ids):
    store, queue, clock, provider = Store(ids), Queue(), Clock(), Provider()
    outbound = OutboundSender(
        store, {"whatsapp": provider}, clock, NoCheckpoints(), MAX_WAIT, FollowUps(queue)
    )
    return outbound, store, queue, clock, provider


def send(outbound, outbox_id):
    return outbound.handle(OutboundTask(outbox_id=outbox_id).model_dump_json().encode(), "corr")


def test_each_sent_reply_enqueues_the_next_one_only():
    outbound, store, queue, _, provider = sender(["a", "b", "c"])
    assert send(outbound, "a") == "sent"
    assert queue.tasks == ["b"]
    assert send(outbound, "b") == "sent"
    assert send(outbound, "c") == "sent"
    assert queue.tasks == ["b", "c"] and provider.sent == ["a", "b", "c"]
    assert store.session.outbound_pending == ()


def test_a_reply_whose_turn_has_not_come_waits_and_enqueues_nothing():
    outbound, _, queue, _, provider = sender(["a", "b"])
    with pytest.raises(WaitingForEarlierReplyError):
        send(outbound, "b")
    assert queue.tasks == [] and provider.sent == []


def test_a_failing_reply_hands_its_turn_on_only_after_the_maximum_wait():
    outbound, store, queue, clock, provider = sender(["a", "b"])
    provider.fail = True
    with pytest.raises(ProviderTransientError):
        send(outbound, "a")
    assert queue.tasks == []  # b keeps waiting for a
    clock.value = T0 + MAX_WAIT
    with pytest.raises(ProviderTransientError):
        send(outbound, "a")
    assert queue.tasks == ["b"]
    provider.fail = False
    assert send(outbound, "b") == "sent"  # bypassing a, which has kept it waiting too long
    assert store.records["a"].status == OutboxStatus.RETRYING


def test_a_redelivered_task_of_a_settled_reply_enqueues_the_next_one():
    outbound, _, queue, _, _ = sender(["a", "b"])
    send(outbound, "a")
    queue.tasks.clear()  # as if the instance died before enqueuing b
    assert send(outbound, "a") == "already_sent"
    assert queue.tasks == ["b"]


def test_a_reply_found_mid_send_is_held_and_the_next_one_gets_its_turn():
    outbound, store, queue, _, provider = sender(["a", "b"])
    store.records["a"] = store.records["a"].changed(OutboxStatus.SENDING, at=T0)
    assert send(outbound, "a") == "needs_review"
    assert queue.tasks == ["b"] and provider.sent == []


def test_while_the_first_reply_is_stuck_each_bypassing_reply_hands_on_to_the_next():
    outbound, _, queue, clock, provider = sender(["a", "b", "c"])
    provider.fail = True
    clock.value = T0 + MAX_WAIT
    with pytest.raises(ProviderTransientError):
        send(outbound, "a")
    provider.fail = False
    assert send(outbound, "b") == "sent"
    assert queue.tasks[-1] == "c"  # not left waiting for a's next retry
    assert send(outbound, "c") == "sent"
    assert provider.sent == ["b", "c"]
