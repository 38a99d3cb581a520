"""Against the Firestore emulator (which refuses a document over 1 MiB, like Firestore):
a session stays writable whatever the contact sends, expires after its tenant's retention,
and a write Firestore refuses ends as a retryable error (a dead letter on the last attempt),
never a loop or a lost message."""

from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.uow_steps import steps_admit, steps_answer

from atende.adapters.checkpoints import NoCheckpoints
from atende.adapters.firestore import codec, doc_size
from atende.adapters.firestore.outbox_store import FirestoreSessionReader
from atende.adapters.firestore.tenant_store import FirestoreTenantStore
from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork, SessionUnwritableError
from atende.conversation.engine import ConversationEngine
from atende.domain import bounds, keys
from atende.domain.events import MessageKind, MessageReceived
from atende.domain.session import new_session
from atende.errors import TransientError
from atende.process_inbound.decisions import DecisionContext, admit_message, answer_inbox
from atende.tenants.tenant_config import TenantConfig

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CONTACT = "5511999990000"
SESSION = keys.session_id("demo", "whatsapp", CONTACT)
EMOJIS = "😀😃😄😁😆😅🤣😂🙂🙃"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.value = now

    def now(self) -> datetime:
        return self.value


def message(n: int, text: str, at: datetime) -> MessageReceived:
    return MessageReceived(
        channel="whatsapp",
        event_id=f"wamid.{n:08d}",
        account_id="106540352242922",
        contact_id=CONTACT,
        occurred_at=at,
        message_id=f"wamid.{n:08d}",
        kind=MessageKind.TEXT,
        text=text,
    )


def context(now: datetime) -> DecisionContext:
    return DecisionContext(
        tenant_id="demo",
        session_id=SESSION,
        now=now,
        outbox_ttl=timedelta(days=30),
        dedupe_ttl=timedelta(days=7),
        hold=timedelta(seconds=1),
    )


def admit(store: FirestoreUnitsOfWork, event: MessageReceived, now: datetime) -> str:
    ctx = context(now)
    return steps_admit(
        store,
        SESSION,
        lambda current: admit_message(current, event, now - ctx.hold, ctx),
    )


def answer(store: FirestoreUnitsOfWork, now: datetime):
    return steps_answer(
        store, SESSION, lambda current: answer_inbox(current, ConversationEngine(), context(now))
    )


def stored_size(db) -> int:
    snapshot = db.collection(codec.SESSIONS).document(SESSION).get()
    return doc_size.document_size(codec.SESSIONS, SESSION, snapshot.to_dict())


def huge(n: int) -> str:
    # 4,096 characters (WhatsApp's maximum), each a 4-byte emoji: 16 KiB of UTF-8.
    return (EMOJIS[n % len(EMOJIS)] + EMOJIS)[:2] * 2048


def test_a_session_in_handoff_keeps_admitting_after_a_hundred_huge_messages(db):
    clock = Clock()
    store = FirestoreUnitsOfWork(
        db, clock, NoCheckpoints(), retention=lambda _: timedelta(days=180)
    )
    assert admit(store, message(0, "quero falar com um atendente", T0), T0) == "admitted"
    session = answer(store, T0 + timedelta(seconds=5))
    assert session is not None and session.handoff is not None
    now = T0 + timedelta(minutes=1)
    # 100 huge messages answered (in handoff: no replies, the history grows) ...
    for n in range(1, 101):
        now += timedelta(minutes=2)
        clock.value = now
        assert admit(store, message(n, huge(n), now), now) == "admitted"
        answer(store, now + timedelta(seconds=5))
        assert stored_size(db) <= bounds.SESSION_BUDGET
    # ... then 100 more that nobody answers (answer tasks stalled): the inbox folds over.
    for n in range(101, 201):
        now += timedelta(seconds=1)
        clock.value = now
        assert admit(store, message(n, huge(n), now), now) == "admitted"
        assert stored_size(db) <= bounds.SESSION_BUDGET
    now += timedelta(minutes=1)
    clock.value = now
    assert admit(store, message(999, "ainda estou aqui", now), now) == "admitted"
    session = answer(store, now + timedelta(seconds=5))
    assert session is not None
    assert session.messages[-1].text == "ainda estou aqui"
    assert session.overflow.inbox_folded > 0
    assert session.handoff is not None and session.handoff.unread >= 200
    assert stored_size(db) <= bounds.SESSION_BUDGET


def test_every_write_sets_expire_at_from_the_tenants_retention(db):
    FirestoreTenantStore(db).save("demo", TenantConfig(session_retention_days=40))
    store = FirestoreUnitsOfWork(db, Clock(), NoCheckpoints())
    admit(store, message(1, "Oi", T0), T0)
    document = db.collection(codec.SESSIONS).document(SESSION).get().to_dict()
    assert document["expire_at"] == T0 + timedelta(days=40)


def test_a_session_past_its_expire_at_is_read_as_absent_and_starts_afresh(db):
    clock = Clock()
    store = FirestoreUnitsOfWork(db, clock, NoCheckpoints(), retention=lambda _: timedelta(days=31))
    admit(store, message(1, "quero falar com um atendente", T0), T0)
    assert answer(store, T0 + timedelta(seconds=5)).handoff is not None

    clock.value = later = T0 + timedelta(days=32)  # TTL has not deleted it yet
    assert db.collection(codec.SESSIONS).document(SESSION).get().exists
    assert answer(store, later) is None  # nothing to answer in an expired session
    # The agent API and `atende inspect session` do not see it either.
    assert FirestoreSessionReader(db, clock).get(SESSION) is None
    assert FirestoreSessionReader(db, Clock(T0)).get(SESSION) is not None
    assert admit(store, message(2, "Oi de novo", later), later) == "admitted"
    session = answer(store, later + timedelta(seconds=5))
    assert session is not None
    assert session.created_at == later
    assert session.handoff is None
    assert [m.text for m in session.messages if m.author == "contact"] == ["Oi de novo"]
    assert session.expire_at == later + timedelta(days=31)


def test_a_write_firestore_refuses_becomes_a_retryable_session_unwritable_error(db, monkeypatch):
    # Only possible if the bounds were wrong: lift the budget so the emulator itself refuses.
    monkeypatch.setattr(bounds, "SESSION_BUDGET", 10 * 1024 * 1024)
    store = FirestoreUnitsOfWork(
        db, Clock(), NoCheckpoints(), retention=lambda _: timedelta(days=180)
    )
    giant = new_session(
        session_id=SESSION,
        tenant_id="demo",
        channel="whatsapp",
        contact_id="9" * 1_100_000,
        account_id="106540352242922",
        now=T0,
    )
    with pytest.raises(SessionUnwritableError) as error:
        steps_admit(store, SESSION, lambda current: giant)
    assert error.value.code == "session_unwritable"
    assert isinstance(error.value, TransientError)  # the last attempt makes it a dead letter
    assert not db.collection(codec.SESSIONS).document(SESSION).get().exists


def test_a_session_over_the_budget_is_never_sent_to_firestore(db):
    store = FirestoreUnitsOfWork(
        db, Clock(), NoCheckpoints(), retention=lambda _: timedelta(days=180)
    )
    giant = new_session(
        session_id=SESSION,
        tenant_id="demo",
        channel="whatsapp",
        contact_id="9" * (bounds.SESSION_BUDGET + 1),
        account_id="106540352242922",
        now=T0,
    )
    with pytest.raises(SessionUnwritableError):
        steps_admit(store, SESSION, lambda current: giant)
    assert not db.collection(codec.SESSIONS).document(SESSION).get().exists


def test_a_long_history_is_shed_oldest_first_to_fit_the_budget(db, monkeypatch):
    monkeypatch.setattr(bounds, "SESSION_BUDGET", 64 * 1024)
    store = FirestoreUnitsOfWork(
        db, Clock(), NoCheckpoints(), retention=lambda _: timedelta(days=180)
    )
    session = new_session(
        session_id=SESSION,
        tenant_id="demo",
        channel="whatsapp",
        contact_id=CONTACT,
        account_id="106540352242922",
        now=T0,
    )
    for n in range(40):
        session = session.said(f"out-{n}", huge(n), "text", "bot", T0)
    steps_admit(store, SESSION, lambda current: session)
    saved = db.collection(codec.SESSIONS).document(SESSION).get().to_dict()
    assert stored_size(db) <= 64 * 1024
    kept = [m["id"] for m in saved["messages"]]
    assert kept and kept[-1] == "out-39" and "out-0" not in kept
