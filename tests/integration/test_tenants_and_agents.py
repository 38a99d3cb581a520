"""Tenant configuration, the agent desk and the handoff record against the Firestore emulator."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.uow_steps import steps_admit, steps_answer

from atende.adapters.checkpoints import NoCheckpoints
from atende.adapters.firestore.tenant_store import FirestoreTenantStore
from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork
from atende.agent_reply.desk import AgentDesk
from atende.conversation.engine import ConversationEngine
from atende.domain import keys
from atende.domain.events import MessageKind, MessageReceived
from atende.errors import MalformedPayloadError, SessionNotFoundError
from atende.fsm.machine import InvalidTransitionError
from atende.process_inbound.acting import record_once
from atende.process_inbound.decisions import DecisionContext, admit_message, answer_inbox
from atende.process_inbound.settings import ProcessingSettings
from atende.tasks.follow_ups import FollowUps
from atende.tenants.tenant_config import DEFAULT_CONFIG, TenantConfig

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
CONTACT = "5511999990000"
SESSION = keys.session_id("demo", "whatsapp", CONTACT)
POLICY = ProcessingSettings(
    dedupe_ttl=timedelta(days=7), outbox_ttl=timedelta(days=30), answer_hold=timedelta(0)
)


class Clock:
    def now(self):
        return T0


class RecordingQueue:
    def __init__(self):
        self.tasks = []

    def enqueue(self, task):
        self.tasks.append(task)
        return True


class FakeMonotonic:
    def __init__(self):
        self.value = 0.0

    def __call__(self):
        return self.value


def converse(store, tenants, *texts):
    """Admit and answer each text in turn, as the processing tasks do."""
    for index, text in enumerate(texts):
        event = MessageReceived(
            channel="whatsapp",
            event_id=f"wamid.{index}",
            account_id="106540352242922",
            contact_id=CONTACT,
            occurred_at=T0 + timedelta(seconds=index),
            message_id=f"wamid.{index}",
            kind=MessageKind.TEXT,
            text=text,
        )
        ctx = DecisionContext(
            tenant_id="demo",
            session_id=SESSION,
            now=T0 + timedelta(seconds=index),
            outbox_ttl=POLICY.outbox_ttl,
            dedupe_ttl=POLICY.dedupe_ttl,
            hold=timedelta(0),
            tenant=tenants.get("demo"),
        )
        steps_admit(
            store,
            SESSION,
            lambda current, e=event, c=ctx: admit_message(current, e, c.now, c),
        )
        steps_answer(
            store, SESSION, lambda current, c=ctx: answer_inbox(current, ConversationEngine(), c)
        )


def command(action, request_id, text=None, session=SESSION, tenant="demo"):
    body = {
        "action": action,
        "tenant_id": tenant,
        "session_id": session,
        "request_id": request_id,
        "agent_id": "agent-7",
    }
    if text is not None:
        body["text"] = text
    return json.dumps(body).encode()


@pytest.fixture
def setup(db):
    store = FirestoreUnitsOfWork(db, Clock(), NoCheckpoints())
    tenants = FirestoreTenantStore(db, ttl_seconds=0)
    queue = RecordingQueue()
    desk = AgentDesk(store, tenants, FollowUps(queue), Clock(), POLICY)
    return store, tenants, queue, desk


def test_a_stored_configuration_is_read_validated_and_cached(db):
    clock = FakeMonotonic()
    tenants = FirestoreTenantStore(db, ttl_seconds=60, monotonic=clock)
    assert tenants.get("acme") == DEFAULT_CONFIG  # no document: the default flow
    tenants.save("acme", TenantConfig(default_queue="vendas"))
    assert tenants.get("acme").default_queue == "vendas"  # saving drops the cached copy
    db.collection("tenants").document("acme").set({"default_queue": "suporte"})
    assert tenants.get("acme").default_queue == "vendas"  # cached for the ttl
    clock.value = 61
    assert tenants.get("acme").default_queue == "suporte"


def test_an_invalid_configuration_logs_one_clear_error_and_gives_the_default_flow(db, caplog):
    db.collection("tenants").document("acme").set(
        {"greeting": "oops", "abuse": {"flood_limit": 0}, "prohibited_patterns": ["("]}
    )
    tenants = FirestoreTenantStore(db, ttl_seconds=60)
    with caplog.at_level(logging.ERROR):
        assert tenants.get("acme") == DEFAULT_CONFIG
        assert tenants.get("acme") == DEFAULT_CONFIG
    [record] = [r for r in caplog.records if "tenant configuration is invalid" in r.getMessage()]
    errors = record.json_fields["errors"]
    assert "greeting: Extra inputs are not permitted" in errors
    assert "abuse.flood_limit" in errors and "prohibited_patterns" in errors


def test_an_agent_reply_and_hand_back_write_the_session_outbox_and_handoff_record(db, setup):
    store, tenants, queue, desk = setup
    converse(store, tenants, "Oi", "quero falar com um atendente", "alguém?")
    handoff = db.collection("handoffs").document(SESSION).get().to_dict()
    assert handoff["status"] == "waiting" and handoff["unread"] == 1
    assert handoff["queue"] == "default" and handoff["reason"] == "handoff_keyword"

    replied = desk.handle(command("reply", "crm-1", "Oi, sou a Ana"), "corr-1")
    assert replied.outcome == "applied" and replied.state == "handoff_human"
    [outbox_id] = replied.outbox_ids[-1:]
    record = db.collection("outbox").document(outbox_id).get().to_dict()
    assert record["origin"] == "agent" and record["message"]["body"] == "Oi, sou a Ana"
    assert db.collection("handoffs").document(SESSION).get().to_dict()["unread"] == 0
    # Sent in its turn, after the bot's replies (unsent here), by a task of its own.
    session = db.collection("sessions").document(SESSION).get().to_dict()
    assert session["last_reply_id"] == outbox_id and record["after"] is not None
    assert any(t.task_id == keys.outbound_task_id(outbox_id) for t in queue.tasks)

    again = desk.handle(command("reply", "crm-1", "Oi, sou a Ana"), "corr-2")
    assert again.outcome == "duplicate"
    agent_records = [
        s.to_dict() for s in db.collection("outbox").stream() if s.to_dict()["origin"] == "agent"
    ]
    assert len(agent_records) == 1

    released = desk.handle(command("release", "crm-2"), "corr-3")
    assert released.state == "triage"  # where the bot was when the contact asked
    handoff = db.collection("handoffs").document(SESSION).get().to_dict()
    assert handoff["status"] == "released" and handoff["expire_at"] is not None
    idle = [t for t in queue.tasks if t.task_id.startswith("idle-")]
    assert len(idle) == 1 and idle[0].schedule_at == T0 + timedelta(seconds=1800)


def test_agent_requests_that_cannot_apply_change_nothing(db, setup):
    store, tenants, _queue, desk = setup
    converse(store, tenants, "Oi")
    before = db.collection("sessions").document(SESSION).get().to_dict()
    with pytest.raises(InvalidTransitionError):
        desk.handle(command("release", "crm-9"), "corr")
    with pytest.raises(SessionNotFoundError):
        desk.handle(command("reply", "crm-10", "x", session="0" * 40), "corr")
    with pytest.raises(SessionNotFoundError):
        desk.handle(command("reply", "crm-11", "x", tenant="other"), "corr")
    with pytest.raises(MalformedPayloadError, match="non-empty"):
        desk.handle(command("reply", "crm-12", "  "), "corr")
    with pytest.raises(MalformedPayloadError, match="4096"):
        desk.handle(command("reply", "crm-13", "x" * 5000), "corr")
    with pytest.raises(MalformedPayloadError, match="action"):
        desk.handle(command("shout", "crm-14", "x"), "corr")
    after = db.collection("sessions").document(SESSION).get().to_dict()
    assert after == before
    assert not db.collection("handoffs").document(SESSION).get().exists
    # A refused request is not remembered: the CRM may retry it once it makes sense.
    assert (
        not db.collection("dedupe").document(keys.agent_request_key("demo", "crm-9")).get().exists
    )


def comment_command(comment_id, request_id, text="Obrigada pelo comentário!", tenant="demo"):
    return json.dumps(
        {
            "action": "comment_reply",
            "tenant_id": tenant,
            "comment_id": comment_id,
            "request_id": request_id,
            "agent_id": "agent-7",
            "text": text,
        }
    ).encode()


def store_comment(store, channel, provider_id, reply_context):
    from atende.domain.comment import comment_record
    from atende.domain.dedupe import DedupeRecord
    from atende.domain.events import CommentReceived

    event = CommentReceived(
        channel=channel, event_id=f"comment:{provider_id}", account_id="acct", contact_id="u1",
        occurred_at=T0, comment_id=provider_id, text="Quanto custa?",
        reply_context=reply_context,
    )  # fmt: skip
    record = comment_record(event, "demo", T0, timedelta(days=30))
    dedupe = DedupeRecord(
        channel=channel, tenant_id="demo", event_type=event.type, created_at=T0,
        expire_at=T0 + timedelta(days=7),
    )  # fmt: skip
    assert record_once(store, keys.dedupe_key(channel, "demo", event.event_id), dedupe, (), record)
    return record.id


def test_an_agent_replies_to_a_comment_once_and_refusals_change_nothing(db, setup):
    store, _tenants, queue, desk = setup
    answerable = store_comment(store, "instagram", "1789", {"comment_id": "1789"})
    silent = store_comment(store, "tiktok", "7094", {})

    replied = desk.handle(comment_command(answerable, "crm-c1"), "corr")
    assert replied.outcome == "applied" and replied.state == "replied"
    [outbox_id] = replied.outbox_ids
    record = db.collection("outbox").document(outbox_id).get().to_dict()
    assert record["reply_context"] == {"comment_id": "1789"} and record["origin"] == "agent"
    assert record["message"]["body"] == "Obrigada pelo comentário!"
    assert any(task.task_id == keys.outbound_task_id(outbox_id) for task in queue.tasks)
    assert desk.handle(comment_command(answerable, "crm-c1"), "corr").outcome == "duplicate"

    with pytest.raises(MalformedPayloadError, match="cannot be answered"):
        desk.handle(comment_command(silent, "crm-c2"), "corr")
    with pytest.raises(MalformedPayloadError, match="non-empty"):
        desk.handle(comment_command(answerable, "crm-c3", text=" "), "corr")
    with pytest.raises(SessionNotFoundError):
        desk.handle(comment_command("0" * 40, "crm-c4"), "corr")
    with pytest.raises(SessionNotFoundError):
        desk.handle(comment_command(answerable, "crm-c5", tenant="other"), "corr")
    with pytest.raises(MalformedPayloadError, match="comment_id"):
        desk.handle(
            json.dumps(
                {
                    "action": "comment_reply",
                    "tenant_id": "demo",
                    "request_id": "r",
                    "agent_id": "a",
                    "text": "x",
                }
            ).encode(),
            "corr",
        )
    assert len(list(db.collection("outbox").stream())) == 1
    assert db.collection("comments").document(silent).get().to_dict()["status"] == "new"
