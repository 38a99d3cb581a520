"""send_outbound sends a session's replies in order, each at most once: a commit's replies
from one task, claimed and recorded without a read while nothing else touched them; a reply
waits for the previous task's reply (or goes ahead of one stuck past the maximum wait); a
reply whose earlier send may have reached the provider is held, never sent twice."""

from datetime import timedelta

import pytest
from tests.unit.send_outbound.send_world import MAX_WAIT, PAUSES, SESSION, build, refused, timed_out

from atende.domain.audit import AuditKind
from atende.domain.events import MessageDelivered
from atende.domain.outbox import CallOutcome, OutboxStatus, ReplyOrigin
from atende.errors import ProviderTransientError, TransientError, WaitingForEarlierReplyError
from atende.process_inbound.statuses import decide_status
from atende.tasks.outbound_task import OutboundTask


def test_a_commits_replies_go_out_in_order_with_no_outbox_read_and_two_writes_each():
    world = build()
    body = world.commit("a", "b", "c")
    world.counting_from_here()

    assert world.send(body) == "sent"
    assert world.provider.sent == ["a", "b", "c"]
    store = world.store
    assert store.outbox_reads() == [] and store.units == 0
    assert store.session_reads() == 0  # sending never reads (or writes) the session
    for outbox_id in ("a", "b", "c"):
        assert store.writes_to(outbox_id) == ["put", "put"]  # claimed, then recorded
        record = store.records[outbox_id]
        assert record.status == OutboxStatus.SENT
        assert record.provider_message_id == f"wamid.out.{outbox_id}"
        assert [change.detail for change in record.history] == ["claimed", "provider_accepted"]
    assert store.session_writes == 0


def test_a_reply_waits_for_the_previous_tasks_unsettled_reply_and_goes_once_it_settled():
    world = build()
    first, second = world.commit("a"), world.commit("b")

    with pytest.raises(WaitingForEarlierReplyError):
        world.send(second)
    assert world.pauses.taken == list(PAUSES)  # then the queue retries the task
    assert world.store.outbox_reads() == ["a"] * (len(PAUSES) + 1)
    assert world.provider.sent == [] and world.store.status("b") == OutboxStatus.PENDING

    assert world.send(first) == "sent"
    assert world.send(second) == "sent"
    assert world.provider.sent == ["a", "b"]


def test_a_reply_goes_within_its_attempt_when_the_previous_one_settles_during_a_pause():
    world = build()
    first, second = world.commit("a"), world.commit("b")

    def meanwhile(pauses_taken):
        if pauses_taken == 2:
            assert world.send(first) == "sent"

    world.pauses.meanwhile = meanwhile
    assert world.send(second) == "sent"
    assert world.pauses.taken == list(PAUSES[:2])
    assert world.provider.sent == ["a", "b"]


def test_past_the_maximum_wait_a_reply_goes_ahead_of_a_stuck_one_and_the_audit_says_so():
    world = build()
    first, second = world.commit("a"), world.commit("b")
    world.provider.fail("a", *(refused() for _ in range(3)))
    with pytest.raises(ProviderTransientError):
        world.send(first)

    world.clock.value += MAX_WAIT - timedelta(seconds=1)
    with pytest.raises(WaitingForEarlierReplyError):
        world.send(second)
    world.clock.value += timedelta(seconds=1)
    world.pauses.taken.clear()
    assert world.send(second) == "sent"

    assert world.provider.sent == ["b"] and world.pauses.taken == []
    assert world.store.status("a") == OutboxStatus.RETRYING  # still to be sent, later
    [bypass] = world.store.audit_of(AuditKind.ORDER_BYPASSED)
    assert (bypass.outbox_id, bypass.detail) == ("b", {"waited_for": "a"})


def test_a_reply_the_last_attempt_claimed_with_an_unknown_outcome_is_held_and_the_next_goes():
    world = build()
    body = world.commit("a", "b")

    def crash():
        raise RuntimeError("the instance died after the provider accepted")

    world.checkpoints.hooks["outbound.after_provider_accept"] = crash
    with pytest.raises(RuntimeError):
        world.send(body)
    assert world.store.status("a") == OutboxStatus.SENDING
    del world.checkpoints.hooks["outbound.after_provider_accept"]
    world.counting_from_here()

    assert world.send(body) == "needs_review,sent"
    assert world.provider.sent == ["a", "b"]  # a once: the provider may have it already
    assert world.store.status("a") == OutboxStatus.NEEDS_REVIEW
    assert world.store.refused == ["a"] and world.store.units == 1  # read, decided, held
    [review] = world.store.audit_of(AuditKind.REVIEW_REQUIRED)
    assert (review.outbox_id, review.detail) == ("a", {"reason": "outcome_unknown"})


def test_a_reply_whose_last_call_the_provider_refused_is_sent_again_not_held():
    world = build()
    body = world.commit("a")
    world.provider.fail("a", refused())
    world.store.fail_write(OutboxStatus.RETRYING, TransientError("contended", code="firestore"))

    with pytest.raises(TransientError):
        world.send(body)
    record = world.store.records["a"]
    assert record.status == OutboxStatus.SENDING  # its outcome could not be recorded
    assert record.last_call == CallOutcome.REFUSED  # what the call did was noted

    assert world.send(body) == "sent"
    assert world.provider.sent == ["a"] and world.store.status("a") == OutboxStatus.SENT


def test_a_send_that_timed_out_is_retried_by_the_queue_not_held():
    world = build()
    body = world.commit("a")
    world.provider.fail("a", timed_out())
    with pytest.raises(ProviderTransientError):
        world.send(body)
    record = world.store.records["a"]
    assert (record.status, record.last_call) == (OutboxStatus.RETRYING, CallOutcome.UNKNOWN)


def test_a_transient_failure_stops_the_batch_and_the_retry_sends_the_rest_once():
    world = build()
    body = world.commit("a", "b", "c")
    world.provider.fail("b", refused())

    with pytest.raises(ProviderTransientError):
        world.send(body)
    assert world.provider.sent == ["a"]  # c is not sent ahead of b
    statuses = [world.store.status(outbox_id) for outbox_id in ("a", "b", "c")]
    assert statuses == [OutboxStatus.SENT, OutboxStatus.RETRYING, OutboxStatus.PENDING]
    world.counting_from_here()

    assert world.send(body) == "already_sent,sent,sent"
    assert world.provider.sent == ["a", "b", "c"]
    # Only what changed since the commit is read: a (settled) and b (to claim again).
    assert world.store.outbox_reads() == ["a", "b"]
    assert world.store.writes_to("c") == ["put", "put"]


def test_replies_an_opt_out_suppressed_are_skipped_and_the_others_sent():
    world = build()
    body = world.commit("a", "b", "c", origins={"b": ReplyOrigin.AGENT})
    # The opt-out's transaction suppressed the automated ones (process_inbound/acting.py).
    for outbox_id in ("a", "c"):
        world.store.write(
            world.store.records[outbox_id].changed(
                OutboxStatus.SUPPRESSED, at=world.clock.now(), detail="opted_out"
            )
        )
    world.counting_from_here()
    assert world.send(body) == "already_suppressed,sent,already_suppressed"
    assert world.provider.sent == ["b"]
    assert world.store.session_reads() == 0


def test_a_redelivery_sends_only_the_unsettled_replies_oldest_first():
    world = build()
    assert world.send(world.commit("a")) == "sent"
    world.commit("b", "c")  # its send task was lost: the turn is redelivered
    body = world.redelivery()
    assert OutboundTask.model_validate_json(body).through == "c"

    assert world.send(body) == "sent"
    assert world.provider.sent == ["a", "b", "c"]
    assert world.send(body) == "unknown_record"  # nothing left unsettled
    assert world.provider.sent == ["a", "b", "c"]


def test_a_status_webhook_between_claim_and_record_is_kept():
    world = build()
    body = world.commit("a")

    def delivered():
        event = MessageDelivered(
            channel="whatsapp", event_id="st.1", account_id="106540352242922",
            occurred_at=world.clock.now(), provider_message_id="wamid.out.a",
        )  # fmt: skip
        current = world.store.records["a"]
        world.store.write(decide_status(current, event, world.clock.now(), "demo").record)

    world.checkpoints.hooks["outbound.after_provider_accept"] = delivered
    world.counting_from_here()

    assert world.send(body) == "sent"
    record = world.store.records["a"]
    assert record.status == OutboxStatus.SENT
    assert record.delivery_status == "message_delivered"  # not overwritten by "sent"
    assert record.provider_message_id == "wamid.out.a" and record.attempts == 1
    assert world.store.refused == ["a"] and world.store.units == 1  # recorded on a fresh read
    assert world.store.writes_to("a") == ["put", "other", "unit"]


def test_the_send_task_of_a_commit_names_its_session_replies_and_time():
    world = build()
    task = OutboundTask.model_validate_json(world.commit("a", "b"))
    assert task.session_id == SESSION and task.outbox_ids == ("a", "b")
    assert [record.after for record in task.records] == [None, "a"]
    assert task.written_at is not None
