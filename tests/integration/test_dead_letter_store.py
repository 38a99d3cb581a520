"""The dead letter store against the Firestore emulator: recorded once, a poison message moved
out of its inbox atomically, a dead-lettered reply released and re-armed for its replay, and a
refused send's outcome noted on the record alone."""

from datetime import timedelta

from tests.integration.test_firestore_stores import T0, FixedClock, message
from tests.integration.uow_steps import steps_admit

from atende.adapters.checkpoints import NoCheckpoints
from atende.adapters.firestore.dead_letters import FirestoreDeadLetterStore
from atende.adapters.firestore.outbox_store import FirestoreSessionReader
from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork
from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.dead_letter import DeadLetter, DeadLetterStatus, dead_letter_id
from atende.process_inbound.decisions import DecisionContext, admit_message
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
    inbound = FirestoreUnitsOfWork(db, clock, NoCheckpoints())
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
