"""Nothing is lost when a task's retries run out: every kind of work becomes a dead letter on
its last attempt (and not before), a batch's events fail alone, a message whose answer keeps
failing is taken out of its inbox so the others are answered, a stuck reply stops holding its
session's order, and a replay takes effect exactly once."""

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.process_inbound.process_world import (
    SESSION,
    Clock,
    MemoryStore,
    NoCheckpoints,
    Queue,
    Tenants,
    text,
)
from tests.unit.send_outbound.send_world import SESSION as SEND_SESSION
from tests.unit.send_outbound.send_world import build, out, refused

from atende.conversation.engine import ConversationEngine
from atende.domain.dead_letter import DeadLetter
from atende.domain.events import CalendarSyncRequested
from atende.domain.outbox import OutboxStatus
from atende.domain.task_attempt import TaskAttempt
from atende.errors import MalformedPayloadError, TransientError
from atende.process_inbound import processor as processor_module
from atende.process_inbound.conversation_deps import ConversationDeps
from atende.process_inbound.decisions import PoisonMessageError
from atende.process_inbound.processor import InboundProcessor
from atende.process_inbound.settings import ProcessingSettings
from atende.tasks.contracts import AnswerTask, IdleTask, InboundBatch, InboundTask
from atende.tasks.dead_letters import (
    DeadLetterRecorder,
    DeadLetterReplayer,
    dead_lettering,
    describe_inbound,
    describe_outbound,
)
from atende.tasks.outbound_task import OutboundTask

MAX_ATTEMPTS = 3
CONTACT_NUMBER = "5511999990000"


def attempt(number: int, queue: str = "atende-inbound", task: str = "task-1") -> TaskAttempt:
    return TaskAttempt(
        queue=queue, task_name=task, retry_count=number - 1, max_attempts=MAX_ATTEMPTS
    )


class MemoryDeadLetters:
    """DeadLetterStore in memory, over the processor's sessions or the sender's outbox."""

    def __init__(self, sessions=None, outbox=None):
        self.letters: dict[str, DeadLetter] = {}
        self.audit = []
        self.sessions = sessions
        self.outbox = outbox

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
        again = self.outbox.records[outbox_id].rearmed(at)
        if again is None:
            return False
        self.outbox.write(again)
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


def send_world():
    """The sender as deployed: its own dead letters on the last attempt, and the worker's."""
    letters = MemoryDeadLetters()
    recorders = []

    def recorder(store, clock):
        letters.outbox = store
        recorders.append(
            DeadLetterRecorder(letters, clock, "send_outbound", "outbound", timedelta(days=30))
        )
        return recorders[0]

    world = build(dead_letters=recorder)
    worker = dead_lettering(world.sender.handle, recorders[0], describe_outbound)
    return world, worker, letters


class ReplayQueue:
    def __init__(self):
        self.tasks = []

    def enqueue(self, task):
        if any(t.task_id == task.task_id for t in self.tasks):
            return False
        self.tasks.append(task)
        return True


def replay(world, letters, letter):
    """An operator's replay, and the attempt its task arrives as."""
    queue = ReplayQueue()
    done = DeadLetterReplayer(letters, queue, world.clock).replay(letter, "corr")
    [task] = queue.tasks
    assert (task.queue, task.target, task.task_id) == ("outbound", "send_outbound",
                                                       done.task_name)  # fmt: skip
    return task.body, attempt(1, queue="atende-outbound", task=task.task_id)


def test_a_reply_still_failing_on_the_last_attempt_is_a_dead_letter_and_the_rest_go_on():
    world, worker, letters = send_world()
    body = world.commit("a", "b", "c")
    world.provider.fail("b", *(refused() for _ in range(3)))
    for number in (1, 2):
        with pytest.raises(TransientError):
            worker(body, "corr", out(number))
    assert letters.letters == {} and world.provider.sent == ["a"]

    assert worker(body, "corr", out(3)) == "already_sent,dead_lettered,sent"
    assert world.provider.sent == ["a", "c"]  # c no longer waits for b
    assert world.store.status("b") == OutboxStatus.DEAD_LETTERED
    [letter] = letters.letters.values()
    assert (letter.kind, letter.outbox_id, letter.error) == ("send", "b", "provider_5xx")
    assert (letter.session_id, letter.tenant_id, letter.member) == (SEND_SESSION, "demo", "b")
    assert OutboundTask.model_validate_json(letter.body).outbox_ids == ("b",)
    # A redelivered last attempt finds its work done: no second letter, nothing sent again.
    assert worker(body, "corr", out(3)) == "already_sent,already_dead_lettered,already_sent"
    assert len(letters.letters) == 1 and world.provider.sent == ["a", "c"]

    # Replayed, b is sent exactly once, however often its replay task is delivered.
    replayed_body, replayed = replay(world, letters, letter)
    assert worker(replayed_body, "corr", replayed) == "sent"
    assert worker(replayed_body, "corr", replayed) == "already_sent"
    assert world.provider.sent == ["a", "c", "b"]
    assert letters.letters[letter.id].status == "replayed"


def test_replies_still_waiting_for_an_earlier_one_on_the_last_attempt_are_dead_letters_each():
    world, worker, letters = send_world()
    first, second = world.commit("a"), world.commit("b", "c")
    with pytest.raises(TransientError):
        worker(second, "corr", out(2))
    assert worker(second, "corr", out(3)) == "dead_lettered"
    assert world.store.status("b") == world.store.status("c") == OutboxStatus.DEAD_LETTERED
    by_reply = {letter.outbox_id: letter for letter in letters.letters.values()}
    assert sorted(by_reply) == ["b", "c"]
    assert {letter.error for letter in by_reply.values()} == {"waiting_for_earlier_reply"}

    # The next turn's reply does not wait for them; each replay sends only its reply.
    assert world.send(first) == "sent"
    assert world.send(world.commit("d")) == "sent"
    for outbox_id in ("b", "c"):
        replayed_body, replayed = replay(world, letters, by_reply[outbox_id])
        assert worker(replayed_body, "corr", replayed) == "sent"
    assert world.provider.sent == ["a", "d", "b", "c"]


# -- only an unknown outcome is held for review --------------------------------------------


def test_on_the_last_attempt_a_send_that_may_have_gone_out_is_held_not_replayable():
    world, worker, letters = send_world()
    body = world.commit("a")
    # The provider accepted; recording that failed.
    world.store.fail_write(OutboxStatus.SENT, TransientError("firestore", code="firestore"))
    assert worker(body, "corr", out(3)) == "dead_lettered"
    assert world.store.status("a") == OutboxStatus.NEEDS_REVIEW
    [letter] = letters.letters.values()
    replayed_body, replayed = replay(world, letters, letter)
    assert worker(replayed_body, "corr", replayed) == "already_needs_review"
    assert world.provider.sent == ["a"]


def test_replay_names_stay_stable_until_marked_so_a_rerun_never_enqueues_twice():
    world, worker, letters = send_world()
    world.provider.fail("a", refused())
    worker(world.commit("a"), "corr", out(3))
    [letter] = letters.letters.values()
    queue = ReplayQueue()
    letters.mark_replayed = lambda *args: None  # a crash before the mark
    first = DeadLetterReplayer(letters, queue, world.clock).replay(letter, "corr")
    again = DeadLetterReplayer(letters, queue, world.clock).replay(letter, "corr")
    assert first.task_name == again.task_name and not again.enqueued
    assert len(queue.tasks) == 1


def test_the_last_attempt_without_task_headers_is_never_assumed():
    world, worker, letters = send_world()
    world.provider.fail("a", refused())
    direct = replace(out(3), task_name="")
    with pytest.raises(TransientError):
        worker(world.commit("a"), "corr", direct)
    assert letters.letters == {} and world.store.status("a") == OutboxStatus.RETRYING


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
