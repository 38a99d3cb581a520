"""Nothing is lost when a task's retries run out: every kind of work becomes a dead letter on
its last attempt (and not before), a batch's events fail alone, a message whose answer keeps
failing is taken out of its inbox so the others are answered, a stuck reply stops holding its
session's order, and a replay takes effect exactly once."""

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.pipeline.test_process import (
    SESSION,
    Clock,
    MemoryStore,
    NoCheckpoints,
    Queue,
    Tenants,
    text,
)
from tests.unit.pipeline.test_send_order import MAX_WAIT, Provider, Store
from tests.unit.pipeline.test_send_order import Clock as SendClock
from tests.unit.pipeline.test_send_order import Queue as SendQueue

from atende.conversation.engine import ConversationEngine
from atende.domain.dead_letter import DeadLetter
from atende.domain.events import CalendarSyncRequested
from atende.domain.outbox import OutboxStatus
from atende.domain.task_attempt import TaskAttempt
from atende.errors import MalformedPayloadError, ProviderTransientError, TransientError
from atende.process_inbound import processor as processor_module
from atende.process_inbound.conversation_deps import ConversationDeps
from atende.process_inbound.decisions import PoisonMessageError
from atende.process_inbound.processor import InboundProcessor
from atende.process_inbound.settings import ProcessingSettings
from atende.send_outbound.sender import OutboundSender
from atende.tasks.contracts import AnswerTask, IdleTask, InboundBatch, InboundTask, OutboundTask
from atende.tasks.dead_letters import (
    DeadLetterRecorder,
    DeadLetterReplayer,
    dead_lettering,
    describe_inbound,
    describe_outbound,
)
from atende.tasks.follow_ups import FollowUps

MAX_ATTEMPTS = 3
CONTACT_NUMBER = "5511999990000"


def attempt(number: int, queue: str = "atende-inbound", task: str = "task-1") -> TaskAttempt:
    return TaskAttempt(
        queue=queue, task_name=task, retry_count=number - 1, max_attempts=MAX_ATTEMPTS
    )


class MemoryDeadLetters:
    """DeadLetterStore in memory, over the processor's sessions and the sender's records."""

    def __init__(self, sessions=None, records=None):
        self.letters: dict[str, DeadLetter] = {}
        self.audit = []
        self.sessions = sessions
        self.records = records

    def record(self, letter, audit=()):
        if letter.id in self.letters:
            return False
        self.letters[letter.id] = letter
        self.audit.extend(audit)
        return True

    def quarantine(self, letter, session_id, message_id, audit=()):
        session = self.sessions.sessions[session_id]
        inbox = tuple(p for p in session.inbox if p.event.message_id != message_id)
        if len(inbox) == len(session.inbox):
            return False
        self.sessions.sessions[session_id] = session.quarantined(message_id)
        self.letters.setdefault(letter.id, letter)
        self.audit.extend(audit)
        return True

    def get(self, letter_id):
        return self.letters.get(letter_id)

    def list_all(self):
        return sorted(self.letters.values(), key=lambda letter: letter.created_at)

    def rearm_send(self, outbox_id, at):
        again = self.records[outbox_id].rearmed(at)
        if again is None:
            return False
        self.records[outbox_id] = again
        return True

    def mark_replayed(self, letter_id, task_name, at):
        self.letters[letter_id] = self.letters[letter_id].replayed(task_name, at)
        return self.letters[letter_id]


class PoisonFlow:
    """The real engine, except that it crashes on one message's text."""

    def __init__(self, poison="boom"):
        self.engine = ConversationEngine()
        self.poison = poison

    def respond(self, session, message, ctx):
        if self.poison and message.text == self.poison:
            raise RuntimeError("engine bug")
        return self.engine.respond(session, message, ctx)


class FailingSync:
    def changes(self, tenant_id, calendar_id):
        raise TransientError("calendar API down", code="calendar_unavailable")

    def advance(self, calendar_id, cursor):
        raise AssertionError("never reached")


def inbound_world(flow=None):
    clock = Clock()
    store = MemoryStore(clock)
    queue = Queue()
    letters = MemoryDeadLetters(sessions=store)
    recorder = DeadLetterRecorder(letters, clock, "process_inbound", "inbound", timedelta(days=30))
    processor = InboundProcessor(
        store,
        store,
        queue,
        flow or ConversationEngine(),
        clock,
        NoCheckpoints(),
        ProcessingSettings(
            dedupe_ttl=timedelta(days=7),
            outbox_ttl=timedelta(days=30),
            answer_hold=timedelta(seconds=1),
        ),
        ConversationDeps(Tenants(), store, calendars=lambda channel: FailingSync()),
        dead_letters=recorder,
        poison_after_attempts=3,
    )
    worker = dead_lettering(processor.handle, recorder, describe_inbound)
    return worker, store, queue, letters, clock


def event_body(message_id="wamid.1", body="Oi", clock=None):
    task = InboundTask(
        tenant_id="demo", event=text(message_id, body), received_at=clock.now() if clock else None
    )
    return task.model_dump_json().encode()


def answer_body(message_id="wamid.1"):
    task = AnswerTask(
        tenant_id="demo", channel="whatsapp", session_id=SESSION, message_id=message_id
    )
    return task.model_dump_json().encode()


def unavailable(*args, **kwargs):
    raise TransientError("firestore unavailable", code="firestore")


# -- every kind of work, on its last attempt and not before -------------------------------


def test_an_event_that_keeps_failing_is_retried_then_dead_lettered_once_on_its_last_attempt(
    monkeypatch,
):
    worker, store, _, letters, _ = inbound_world()
    monkeypatch.setattr(store, "run", unavailable)
    body = event_body()
    for number in (1, 2):
        with pytest.raises(TransientError):
            worker(body, "corr", attempt(number))
    assert letters.letters == {}
    assert worker(body, "corr", attempt(3)) == "dead_lettered"
    # A redelivered last attempt finds its dead letter: still one.
    assert worker(body, "corr", attempt(3)) == "dead_lettered"
    [letter] = letters.letters.values()
    assert (letter.kind, letter.error, letter.attempts) == ("event", "firestore", 3)
    assert (letter.queue, letter.target, letter.task_name) == ("inbound", "process_inbound",
                                                              "task-1")  # fmt: skip
    assert letter.body == body  # replays the whole event
    assert letter.session_id == SESSION and letter.tenant_id == "demo"
    assert [a.detail["reason"] for a in letters.audit] == ["dead_lettered"]


def test_an_unexpected_exception_on_the_last_attempt_is_dead_lettered_too(monkeypatch):
    worker, store, _, letters, _ = inbound_world()

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(store, "run", broken)
    with pytest.raises(KeyError):
        worker(event_body(), "corr", attempt(2))
    assert worker(event_body(), "corr", attempt(3)) == "dead_lettered"
    assert [x.error for x in letters.letters.values()] == ["unexpected_error"]


def test_a_permanent_failure_is_never_a_dead_letter():
    worker, _, _, letters, _ = inbound_world()
    with pytest.raises(MalformedPayloadError):
        worker(b"not a task", "corr", attempt(3))
    assert letters.letters == {}


def test_answer_and_idle_tasks_become_dead_letters_of_their_kind(monkeypatch):
    worker, store, _, letters, clock = inbound_world()
    worker(event_body(clock=clock), "corr")
    clock.value += timedelta(seconds=2)
    monkeypatch.setattr(store, "run", unavailable)
    idle = IdleTask(tenant_id="demo", channel="whatsapp", session_id=SESSION, activity_seq=0,
                    due_at=clock.now()).model_dump_json().encode()  # fmt: skip
    with pytest.raises(TransientError):
        worker(answer_body(), "corr", attempt(2, task="answer-1"))
    assert worker(answer_body(), "corr", attempt(3, task="answer-1")) == "dead_lettered"
    assert worker(idle, "corr", attempt(3, task="idle-1")) == "dead_lettered"
    assert sorted((x.kind, x.task_name) for x in letters.letters.values()) == [
        ("answer", "answer-1"),
        ("idle", "idle-1"),
    ]


def test_a_calendar_sync_that_keeps_failing_is_a_calendar_dead_letter():
    worker, _, _, letters, _ = inbound_world()
    notice = CalendarSyncRequested(
        channel="google_calendar", event_id="chan-1:7", account_id="agenda@loja.example",
        occurred_at=text("x", "y").occurred_at, calendar_id="agenda@loja.example",
        watch_id="chan-1",
    )  # fmt: skip
    body = InboundTask(tenant_id="demo", event=notice).model_dump_json().encode()
    with pytest.raises(TransientError):
        worker(body, "corr", attempt(1))
    assert worker(body, "corr", attempt(3)) == "dead_lettered"
    assert [(x.kind, x.error) for x in letters.letters.values()] == [
        ("calendar", "calendar_unavailable")
    ]


# -- a batch: each event its own outcome ----------------------------------------------------


def batch_with_a_broken_event(clock):
    tasks = tuple(
        InboundTask(tenant_id="demo", event=text(f"wamid.{n}", "Oi"), received_at=clock.now())
        for n in range(3)
    )
    return tasks, InboundBatch(tasks=tasks).model_dump_json().encode()


def test_an_unexpected_exception_of_one_batched_event_does_not_stop_the_events_after_it(
    monkeypatch,
):
    worker, store, _, letters, clock = inbound_world()
    real_admit = processor_module.admit_message

    def admit(current, event, arrived_at, ctx):
        if event.message_id == "wamid.1":
            raise ValueError("a bug in one event")
        return real_admit(current, event, arrived_at, ctx)

    monkeypatch.setattr(processor_module, "admit_message", admit)
    _, body = batch_with_a_broken_event(clock)
    with pytest.raises(ValueError):
        worker(body, "corr", attempt(1))
    # The third event was admitted although the second one raised.
    assert [p.event.message_id for p in store.sessions[SESSION].inbox] == ["wamid.0", "wamid.2"]
    assert letters.letters == {}

    # On the last attempt only the failing event becomes a dead letter, holding only itself.
    outcome = worker(body, "corr", attempt(3, task="inb-1"))
    assert outcome == "dead_lettered=1,present=2"
    [letter] = letters.letters.values()
    assert letter.kind == "batch" and letter.error == "unexpected_error"
    replay = InboundTask.model_validate_json(letter.body)
    assert replay.event.message_id == "wamid.1"

    # Replayed once the bug is gone, it is admitted, and only it.
    monkeypatch.setattr(processor_module, "admit_message", real_admit)
    replayed = attempt(1, task=letter.next_replay_task_name)
    assert worker(letter.body, "corr", replayed) == "admitted"
    inbox = [p.event.message_id for p in store.sessions[SESSION].inbox]
    assert inbox == ["wamid.0", "wamid.1", "wamid.2"]


def test_each_still_failing_event_of_a_batch_gets_its_own_dead_letter_and_replay_name(
    monkeypatch,
):
    worker, store, _, letters, clock = inbound_world()
    monkeypatch.setattr(store, "run", unavailable)
    _, body = batch_with_a_broken_event(clock)
    assert worker(body, "corr", attempt(3, task="inb-1")) == "dead_lettered=3"
    names = {letter.next_replay_task_name for letter in letters.letters.values()}
    assert len(letters.letters) == 3 and len(names) == 3


# -- a poison message is taken out of its inbox ----------------------------------------------


def admit_two(worker, clock):
    worker(event_body("wamid.1", "boom", clock), "corr")
    worker(event_body("wamid.2", "Oi", clock), "corr")
    clock.value += timedelta(seconds=2)


def test_a_message_whose_answer_keeps_failing_is_quarantined_and_the_later_ones_answered():
    flow = PoisonFlow()
    worker, store, queue, letters, clock = inbound_world(flow)
    admit_two(worker, clock)
    for number in (1, 2):
        with pytest.raises(PoisonMessageError):
            worker(answer_body("wamid.2"), "corr", attempt(number, task="answer-2"))
    assert len(store.sessions[SESSION].inbox) == 2 and not store.outbox  # blocked so far

    assert worker(answer_body("wamid.2"), "corr", attempt(3, task="answer-2")) == "answered"
    session = store.sessions[SESSION]
    assert session.inbox == ()
    answered = {record.inbound_event_id for record in store.outbox.values()}
    assert answered == {"wamid.2"}  # the later message got its answer
    [letter] = letters.letters.values()
    assert (letter.kind, letter.error, letter.session_id) == ("answer", "unexpected_error", SESSION)
    held = InboundTask.model_validate_json(letter.body)
    assert held.event.message_id == "wamid.1" and held.event.text == "boom"

    # Replayed (the engine fixed): admitted again and, its hold long over, answered in the
    # same unit of work (no answer task), once.
    flow.poison = None
    replay = attempt(1, task=letter.next_replay_task_name)
    queue.tasks.clear()
    assert worker(letter.body, "corr", replay) == "answered"
    assert not any(b'"kind":"answer"' in task.body for task in queue.tasks)
    assert worker(letter.body, "corr", replay) == "duplicate"
    replies_to_boom = [r for r in store.outbox.values() if r.inbound_event_id == "wamid.1"]
    assert replies_to_boom and len({r.id for r in replies_to_boom}) == len(replies_to_boom)
    assert store.sessions[SESSION].inbox == ()
    assert sum(1 for m in store.sessions[SESSION].messages if m.id == "wamid.1") == 1


def test_a_transient_failure_of_the_answer_never_quarantines_a_message(monkeypatch):
    worker, store, _, letters, clock = inbound_world()
    admit_two(worker, clock)
    monkeypatch.setattr(store, "run", unavailable)
    with pytest.raises(TransientError):
        worker(answer_body("wamid.2"), "corr", attempt(2, task="answer-2"))
    assert len(store.sessions[SESSION].inbox) == 2 and letters.letters == {}


# -- a stuck reply stops holding its session's order -----------------------------------------


def send_world(ids=("a", "b", "c")):
    store, queue, clock, provider = Store(list(ids)), SendQueue(), SendClock(), Provider()
    store.get = lambda outbox_id: store.records.get(outbox_id)
    notes = []

    def note_call(outbox_id, call, error, at):
        notes.append(call)
        store.records[outbox_id] = store.records[outbox_id].model_copy(
            update={"last_call": call, "last_error": error}
        )

    store.note_call = note_call
    letters = MemoryDeadLetters(records=store.records)
    recorder = DeadLetterRecorder(letters, clock, "send_outbound", "outbound", timedelta(days=30))
    sender = OutboundSender(store, {"whatsapp": provider}, clock, NoCheckpoints(), MAX_WAIT,
                            FollowUps(queue), dead_letters=recorder, call_notes=store)  # fmt: skip
    worker = dead_lettering(sender.handle, recorder, describe_outbound)
    return worker, store, queue, provider, letters


def send_body(outbox_id):
    return OutboundTask(outbox_id=outbox_id).model_dump_json().encode()


def out(number, outbox_id):
    return attempt(number, queue="atende-outbound", task=f"out-{outbox_id}")


def test_a_reply_whose_sends_keep_failing_is_dead_lettered_released_and_the_next_one_goes():
    worker, store, queue, provider, letters = send_world()
    provider.fail = True
    for number in (1, 2):
        with pytest.raises(TransientError):
            worker(send_body("a"), "corr", out(number, "a"))
    assert queue.tasks == []  # b still waits for a
    assert worker(send_body("a"), "corr", out(3, "a")) == "dead_lettered"
    assert store.records["a"].status == OutboxStatus.DEAD_LETTERED
    assert [p.outbox_id for p in store.session.outbound_pending] == ["b", "c"]
    assert queue.tasks == ["b"]  # the next reply's turn has come
    [letter] = letters.letters.values()
    assert (letter.kind, letter.outbox_id, letter.error) == ("send", "a", "provider_5xx")

    provider.fail = False
    assert worker(send_body("b"), "corr", out(1, "b")) == "sent"

    # Replayed: sent exactly once, however often its replay task is delivered.
    replayer = DeadLetterReplayer(letters, queue_for_replays := ReplayQueue(), SendClock())
    done = replayer.replay(letter, "corr")
    assert done.task_name == "out-a-replay-1" and letters.letters[letter.id].status == "replayed"
    [task] = queue_for_replays.tasks
    assert (task.queue, task.target, task.body) == ("outbound", "send_outbound", send_body("a"))
    replay = attempt(1, queue="atende-outbound", task=task.task_id)
    assert worker(task.body, "corr", replay) == "sent"
    assert worker(task.body, "corr", replay) == "already_sent"
    assert provider.sent.count("a") == 1


class ReplayQueue:
    def __init__(self):
        self.tasks = []

    def enqueue(self, task):
        if any(t.task_id == task.task_id for t in self.tasks):
            return False
        self.tasks.append(task)
        return True


def test_a_reply_still_waiting_for_an_earlier_one_on_its_last_attempt_stops_waiting():
    worker, store, _queue, _, letters = send_world()
    with pytest.raises(TransientError):
        worker(send_body("b"), "corr", out(2, "b"))
    assert worker(send_body("b"), "corr", out(3, "b")) == "dead_lettered"
    assert [p.outbox_id for p in store.session.outbound_pending] == ["a", "c"]
    assert [x.error for x in letters.letters.values()] == ["waiting_for_earlier_reply"]


# -- only an unknown outcome is held for review --------------------------------------------


def test_a_refused_send_whose_outcome_could_not_be_recorded_is_sent_again_not_held():
    worker, store, _, provider, _ = send_world(("a",))
    real_finish, real_send = store.finish_send, provider.send

    def refused(record):
        error = ProviderTransientError("HTTP 500", code="provider_5xx")
        error.attempts, error.failures = 1, ("provider_5xx",)  # the provider answered 500
        raise error

    provider.send = refused

    def contended(*args, **kwargs):
        raise TransientError("firestore contention", code="firestore")

    store.finish_send = contended
    with pytest.raises(TransientError):
        worker(send_body("a"), "corr", out(1, "a"))
    assert store.records["a"].status == OutboxStatus.SENDING  # the outcome was not recorded
    assert store.records["a"].last_call == "refused"  # but what the call did was noted

    store.finish_send, provider.send = real_finish, real_send
    assert worker(send_body("a"), "corr", out(2, "a")) == "sent"
    assert provider.sent == ["a"] and store.records["a"].status == OutboxStatus.SENT


def test_a_send_the_provider_may_have_accepted_is_held_for_review_not_sent_again():
    worker, store, _, provider, _ = send_world(("a",))
    real_finish = store.finish_send
    store.finish_send = unavailable  # the provider accepted; recording that failed
    with pytest.raises(TransientError):
        worker(send_body("a"), "corr", out(1, "a"))
    store.finish_send = real_finish
    assert worker(send_body("a"), "corr", out(2, "a")) == "needs_review"
    assert provider.sent == ["a"]  # once


def test_on_the_last_attempt_a_send_that_may_have_gone_out_is_held_not_replayable():
    worker, store, _, provider, letters = send_world(("a",))
    real_finish = store.finish_send
    calls = []

    def fail_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise TransientError("firestore", code="firestore")
        return real_finish(*args, **kwargs)

    store.finish_send = fail_first
    assert worker(send_body("a"), "corr", out(3, "a")) == "dead_lettered"
    assert store.records["a"].status == OutboxStatus.NEEDS_REVIEW
    [letter] = letters.letters.values()
    DeadLetterReplayer(letters, queue := ReplayQueue(), SendClock()).replay(letter, "corr")
    replayed = attempt(1, queue="atende-outbound", task=queue.tasks[0].task_id)
    assert worker(letter.body, "corr", replayed) == "already_needs_review"
    assert provider.sent == ["a"]


def test_replay_names_stay_stable_until_marked_so_a_rerun_never_enqueues_twice():
    worker, _store, _, provider, letters = send_world(("a",))
    provider.fail = True
    worker(send_body("a"), "corr", out(3, "a"))
    [letter] = letters.letters.values()
    queue = ReplayQueue()
    letters.mark_replayed = lambda *args: None  # a crash before the mark
    first = DeadLetterReplayer(letters, queue, SendClock()).replay(letter, "corr")
    again = DeadLetterReplayer(letters, queue, SendClock()).replay(letter, "corr")
    assert first.task_name == again.task_name and not again.enqueued
    assert len(queue.tasks) == 1


def test_the_last_attempt_without_task_headers_is_never_assumed():
    worker, _store, _, provider, letters = send_world(("a",))
    provider.fail = True
    direct = replace(out(3, "a"), task_name="")
    with pytest.raises(TransientError):
        worker(send_body("a"), "corr", direct)
    assert letters.letters == {}


def test_each_new_dead_letter_logs_one_line_for_the_metric_with_ids_and_codes_only(
    monkeypatch, caplog
):
    worker, store, _, _, _ = inbound_world()
    monkeypatch.setattr(store, "run", unavailable)
    body = event_body(body="meu CPF é 123.456.789-00")
    with caplog.at_level("INFO", logger="atende.tasks.dead_letters"):
        worker(body, "corr", attempt(3))
        worker(body, "corr", attempt(3))  # redelivered: no second count
    lines = [r for r in caplog.records if r.getMessage() == "dead letter recorded"]
    assert len(lines) == 1
    fields = lines[0].json_fields
    assert (fields["outcome"], fields["kind"], fields["error"]) == ("dead_lettered", "event",
                                                                    "firestore")  # fmt: skip
    assert fields["function"] == "process_inbound" and fields["dead_letter_id"]
    assert "123.456" not in repr(fields) and CONTACT_NUMBER not in repr(fields)
