"""The dead letter store against the Firestore emulator: recorded once, a poison message moved
out of its inbox atomically, a dead-lettered reply released and re-armed for its replay, and a
refused send's outcome noted on the record alone."""

from datetime import timedelta

from tests.integration.test_firestore_stores import T0, FixedClock, message, process
from tests.integration.uow_steps import steps_admit

from atende.adapters.checkpoints import NoCheckpoints
from atende.adapters.firestore.dead_letters import FirestoreDeadLetterStore
from atende.adapters.firestore.inbound_store import FirestoreInboundStore
from atende.adapters.firestore.outbox_store import FirestoreOutboxStore, FirestoreSessionReader
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.dead_letter import DeadLetter, DeadLetterStatus, dead_letter_id
from atende.domain.outbox import CallOutcome, OutboxStatus
from atende.process_inbound.decisions import DecisionContext, admit_message
from atende.send_outbound.decisions import SendContext, dead_lettered, decide_send
from atende.tasks.contracts import InboundTask

SESSION = keys.session_id("demo", "whatsapp", "5511999990000")


def letter(task_name="out-abc", member="", at=T0, body=b'{"outbox_id":"abc"}', **fields):
    return DeadLetter(
        id=dead_letter_id("atende-outbound", task_name, member),
        function="send_outbound",
        kind=fields.pop("kind", "send"),
        queue=fields.pop("queue", "outbound"),
        queue_name="atende-outbound",
        task_name=task_name,
        member=member,
        target="send_outbound",
        body=body,
        tenant_id="demo",
        channel="whatsapp",
        session_id=SESSION,
        error="provider_5xx",
        attempts=50,
        first_attempt_at=at - timedelta(hours=3),
        last_attempt_at=at,
        created_at=at,
        expire_at=at + timedelta(days=30),
        **fields,
    )


def audit():
    return (
        AuditEntry(kind=AuditKind.REVIEW_REQUIRED, at=T0, channel="whatsapp",
                   detail={"reason": "dead_lettered"}),
    )  # fmt: skip


def test_a_dead_letter_is_recorded_once_with_its_audit_and_listed_oldest_first(db):
    store = FirestoreDeadLetterStore(db)
    later = letter("out-later", at=T0 + timedelta(minutes=5))
    assert store.record(later, audit())
    assert store.record(letter(), audit())
    assert not store.record(letter(), audit())  # a redelivered last attempt
    assert [x.task_name for x in store.list_all()] == ["out-abc", "out-later"]
    stored = store.get(letter().id)
    assert stored == letter() and stored.body == b'{"outbox_id":"abc"}'
    assert len(list(db.collection("audit").stream())) == 2
    assert db.collection("dead_letters").document(letter().id).get().get("expire_at")


def test_a_replay_is_marked_on_the_letter_which_is_kept(db):
    store = FirestoreDeadLetterStore(db)
    store.record(letter())
    marked = store.mark_replayed(letter().id, "out-abc-replay-1", T0 + timedelta(hours=1))
    assert marked.status == DeadLetterStatus.REPLAYED
    again = store.get(letter().id)
    assert again.replay_task_names == ("out-abc-replay-1",)
    assert again.next_replay_task_name == "out-abc-replay-2"


def test_a_poison_message_leaves_its_inbox_and_becomes_a_dead_letter_in_one_step(db):
    clock = FixedClock()
    inbound = FirestoreInboundStore(db, clock, NoCheckpoints())
    ctx = DecisionContext(tenant_id="demo", session_id=SESSION, now=T0,
                          outbox_ttl=timedelta(days=30), dedupe_ttl=timedelta(days=7),
                          hold=timedelta(seconds=1))  # fmt: skip
    for message_id in ("wamid.1", "wamid.2"):
        event = message(message_id)
        steps_admit(inbound, SESSION,
                      lambda current, e=event: admit_message(current, e, T0, ctx))  # fmt: skip
    reader = FirestoreSessionReader(db)
    poison = reader.get(SESSION).inbox[0]
    body = InboundTask(tenant_id="demo", event=poison.event).model_dump_json().encode()
    held = letter("answer-1", member="wamid.1", kind="answer", queue="inbound", body=body)
    store = FirestoreDeadLetterStore(db)
    assert store.quarantine(held, SESSION, "wamid.1", audit())
    assert [p.event.message_id for p in reader.get(SESSION).inbox] == ["wamid.2"]
    assert InboundTask.model_validate_json(store.get(held.id).body).event.message_id == "wamid.1"
    # Moved already: nothing more is written.
    assert not store.quarantine(held, SESSION, "wamid.1", audit())
    assert len(store.list_all()) == 1


def test_a_dead_lettered_reply_leaves_the_order_and_a_replay_makes_it_sendable_again(db):
    clock = FixedClock()
    process(FirestoreInboundStore(db, clock, NoCheckpoints()), message())
    outbox = FirestoreOutboxStore(db, clock)
    first, second = outbox.for_session(SESSION)
    ctx = SendContext(now=T0, max_order_wait=timedelta(minutes=5))
    outbox.begin_send(first.id, lambda r, s: decide_send(r, s, ctx))
    outbox.finish_send(
        first.id, lambda r: r.model_copy(update={"status": OutboxStatus.RETRYING}),
        release=False, audit=(),
    )  # fmt: skip
    finished = outbox.finish_send(
        first.id, lambda r: dead_lettered(r, T0, "provider_5xx"), release=True, audit=()
    )
    assert finished.record.status == OutboxStatus.DEAD_LETTERED
    assert [p.outbox_id for p in finished.pending] == [second.id]  # the next one's turn

    store = FirestoreDeadLetterStore(db)
    assert store.rearm_send(first.id, T0)
    assert outbox.get(first.id).status == OutboxStatus.RETRYING
    assert not store.rearm_send(first.id, T0)  # only a dead-lettered record is re-armed
    # Out of the order, it goes at once; the reply after it is not held up by it.
    assert outbox.begin_send(first.id, lambda r, s: decide_send(r, s, ctx)).action == "send"


def test_a_refused_call_noted_on_the_record_alone_lets_the_retry_send_instead_of_holding(db):
    clock = FixedClock()
    process(FirestoreInboundStore(db, clock, NoCheckpoints()), message())
    outbox = FirestoreOutboxStore(db, clock)
    first, _ = outbox.for_session(SESSION)
    ctx = SendContext(now=T0, max_order_wait=timedelta(minutes=5))
    outbox.begin_send(first.id, lambda r, s: decide_send(r, s, ctx))
    version = outbox.get(first.id).version
    outbox.note_call(first.id, CallOutcome.REFUSED, "provider_5xx", T0)
    noted = outbox.get(first.id)
    assert noted.status == OutboxStatus.SENDING and noted.last_call == CallOutcome.REFUSED
    assert noted.version == version + 1
    assert outbox.begin_send(first.id, lambda r, s: decide_send(r, s, ctx)).action == "send"
    # A claim clears the note: found mid-send again, the outcome is unknown → held.
    assert outbox.begin_send(first.id, lambda r, s: decide_send(r, s, ctx)).action == "hold"
