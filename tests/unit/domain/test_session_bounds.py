"""The session document stays writable whatever the contact sends: every text, list and map
is bounded, and the encoded document always weighs less than the budget (Firestore's limit
is 1 MiB, and a session over it could never be written again)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from atende.adapters.firestore import codec, doc_size
from atende.domain import bounds
from atende.domain.events import MediaRef, MessageKind, MessageReceived
from atende.domain.session import (
    MAX_STORED_MESSAGES,
    HandoffInfo,
    Session,
    new_session,
)
from atende.fsm.machine import record
from atende.fsm.states import State

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EMOJI = "😀"  # 4 bytes of UTF-8
WHATSAPP_MAX_TEXT = 4096  # characters


def message(n: int, text: str | None, *, caption: str | None = None) -> MessageReceived:
    return MessageReceived(
        channel="whatsapp",
        event_id=f"wamid.HBgNNTUxMTk5OTk5MDAwMBUCABIYFjNFQjBBQTk5OTk5OTk5OTk5OTk5{n:06d}",
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=NOW + timedelta(seconds=n),
        message_id=f"wamid.HBgNNTUxMTk5OTk5MDAwMBUCABIYFjNFQjBBQTk5OTk5OTk5OTk5OTk5{n:06d}",
        kind=MessageKind.IMAGE if caption else MessageKind.TEXT,
        text=text,
        choice_id=None,
        media=MediaRef(id="1234567890", mime_type="image/jpeg", caption=caption)
        if caption
        else None,
    )


def fresh() -> Session:
    return new_session(
        session_id="a" * 40,
        tenant_id="demo",
        channel="whatsapp",
        contact_id="5511999990000",
        account_id="106540352242922",
        now=NOW,
    )


def size(session: Session) -> int:
    return doc_size.document_size(codec.SESSIONS, session.id, codec.to_document(session))


def in_handoff(session: Session) -> Session:
    handoff = HandoffInfo(requested_at=NOW, reason="explicit_request", queue="default")
    return session.model_copy(update={"state": State.HANDOFF_HUMAN, "handoff": handoff})


def test_a_long_text_is_cut_on_a_character_boundary_with_a_marker():
    text = EMOJI * WHATSAPP_MAX_TEXT
    cut = bounds.truncate_utf8(text)
    assert len(cut.encode("utf-8")) <= bounds.MAX_STORED_TEXT_BYTES
    assert cut.endswith(bounds.TRUNCATION_MARKER)
    head = cut.removesuffix(bounds.TRUNCATION_MARKER)
    assert head == EMOJI * len(head)  # whole emoji only, none split
    assert bounds.truncate_utf8(cut) == cut
    assert bounds.truncate_utf8("Oi, tudo bem?") == "Oi, tudo bem?"


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=8, max_value=6000))
@settings(max_examples=300, deadline=None)
def test_truncation_never_exceeds_the_bytes_and_keeps_a_prefix(text, limit):
    cut = bounds.truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= max(limit, len(text.encode("utf-8")) if cut == text else 0)
    if cut != text:
        assert text.startswith(cut.removesuffix(bounds.TRUNCATION_MARKER))
        assert len(cut.encode("utf-8")) <= limit


def worst_case() -> Session:
    """Every slot at its cap, every text 4,096 emoji: 100 huge messages arriving while in
    handoff and never answered, 60 huge answered ones, 200 pending replies, 30 transitions,
    20 collected fields of 4,096 emoji, a huge topic."""
    session = in_handoff(fresh())
    huge = EMOJI * WHATSAPP_MAX_TEXT
    for n in range(MAX_STORED_MESSAGES):
        session = session.said(f"out-{n:036d}", huge, "text", "agent", NOW)
    transitions = session.transitions
    for _ in range(40):
        transitions = record(transitions, State.HANDOFF_HUMAN, State.HANDOFF_HUMAN, "x" * 40, NOW)
    session = session.model_copy(
        update={
            "transitions": transitions,
            "collected": {f"field_{n}": huge for n in range(20)},
            "topic": huge,
        }
    )
    session = session.model_copy(
        update={
            "seen": tuple(f"{n:016x}" for n in range(bounds.MAX_SEEN_MESSAGES)),
            "last_reply_id": "f" * 40,
        }
    )
    for n in range(100):
        session = session.admitted(message(n, huge, caption=huge), NOW, NOW).next_version(NOW)
    return session.next_version(NOW)


def test_the_worst_case_session_stays_under_the_budget():
    session = worst_case()
    assert size(session) <= bounds.SESSION_BUDGET
    assert size(session) < doc_size.MAX_DOCUMENT_BYTES
    assert len(session.inbox) <= bounds.MAX_INBOX_MESSAGES
    assert len(session.messages) == MAX_STORED_MESSAGES
    assert len(session.seen) == bounds.MAX_SEEN_MESSAGES
    for stored in session.messages:
        assert stored.text is None or len(stored.text.encode()) <= bounds.MAX_STORED_TEXT_BYTES


def test_without_the_bounds_the_same_inputs_would_break_firestores_limit():
    """The scenario is a real threat: the raw texts alone weigh more than 1 MiB."""
    raw = (EMOJI * WHATSAPP_MAX_TEXT).encode()
    assert len(raw) * (MAX_STORED_MESSAGES + 100) > doc_size.MAX_DOCUMENT_BYTES


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["admit", "answer", "reply", "last_reply"]),
            st.text(alphabet=st.sampled_from(["a", "é", "€", EMOJI]), max_size=5000),
        ),
        max_size=120,
    )
)
@settings(max_examples=40, deadline=None)
def test_any_sequence_of_inputs_keeps_the_session_under_the_budget(steps):
    session = in_handoff(fresh())
    for n, (action, text) in enumerate(steps, start=1):
        if action == "admit":
            session = session.admitted(message(n, text), NOW, NOW)
        elif action == "answer" and session.inbox:
            session = session.answered(session.inbox[0].event)
        elif action == "reply":
            session = session.said(f"out-{n}", text, "text", "bot", NOW)
        else:
            session = session.model_copy(update={"last_reply_id": f"{n:040d}"})
        session = session.next_version(NOW)
        assert size(session) <= bounds.SESSION_BUDGET


def test_a_full_inbox_folds_its_oldest_messages_into_the_history_unanswered():
    session = in_handoff(fresh())
    for n in range(bounds.MAX_INBOX_MESSAGES + 10):
        session = session.admitted(message(n, f"mensagem {n}"), NOW, NOW)
    assert len(session.inbox) == bounds.MAX_INBOX_MESSAGES
    assert session.inbox[0].event.text == "mensagem 10"
    folded = [m for m in session.messages if m.overflow]
    assert [m.text for m in folded] == [f"mensagem {n}" for n in range(10)]
    assert session.overflow.inbox_folded == 10
    # The agent sees them as unread, and a redelivered folded message is not admitted again.
    assert session.handoff is not None and session.handoff.unread == 10
    assert session.has_message(message(3, "mensagem 3").message_id)
    assert session.admitted(message(3, "mensagem 3"), NOW, NOW) == session


def test_the_inbox_folds_by_bytes_too():
    session = fresh()
    huge = EMOJI * WHATSAPP_MAX_TEXT
    for n in range(bounds.MAX_INBOX_MESSAGES):
        session = session.admitted(message(n, huge, caption=huge), NOW, NOW)
    assert len(session.inbox) < bounds.MAX_INBOX_MESSAGES
    assert session.overflow.inbox_folded == bounds.MAX_INBOX_MESSAGES - len(session.inbox)
    assert sum(len(p.model_dump_json().encode()) for p in session.inbox) <= bounds.MAX_INBOX_BYTES


def test_stored_texts_are_cut_but_the_answered_history_keeps_the_start():
    huge = "Olá " + EMOJI * WHATSAPP_MAX_TEXT
    session = fresh().admitted(message(1, huge, caption=huge), NOW, NOW)
    event = session.inbox[0].event
    assert event.text is not None and event.text.startswith("Olá 😀")
    assert event.text.endswith(bounds.TRUNCATION_MARKER)
    assert event.media is not None and event.media.caption is not None
    assert len(event.media.caption.encode()) <= bounds.MAX_INBOX_TEXT_BYTES
    answered = session.answered(event).said("out-1", huge, "text", "bot", NOW)
    assert all(
        len((m.text or "").encode()) <= bounds.MAX_STORED_TEXT_BYTES for m in answered.messages
    )


def test_a_session_remembers_at_most_its_newest_admitted_messages():
    session = fresh()
    for n in range(bounds.MAX_SEEN_MESSAGES + 7):
        session = session.admitted(message(n, "Oi"), NOW, NOW)
        session = session.answered(session.inbox[0].event)
    assert len(session.seen) == bounds.MAX_SEEN_MESSAGES
    assert session.has_message(message(bounds.MAX_SEEN_MESSAGES + 6, None).message_id)


def test_bounding_an_ordinary_session_changes_nothing():
    session = fresh().admitted(message(1, "Oi"), NOW, NOW).said("o1", "Olá!", "text", "bot", NOW)
    assert session.bounded() is session


def test_a_session_past_its_expire_at_is_expired():
    session = fresh().retained(NOW, timedelta(days=31))
    assert session.expire_at == NOW + timedelta(days=31)
    assert not session.expired(NOW + timedelta(days=30))
    assert session.expired(NOW + timedelta(days=31))
    assert not fresh().expired(NOW + timedelta(days=3650))


def test_a_whole_whatsapp_text_waits_in_the_inbox_uncut():
    """The answer, and the abuse policy's `max_input_chars`, see the message as written."""
    whole = EMOJI * WHATSAPP_MAX_TEXT
    session = fresh().admitted(message(1, whole), NOW, NOW)
    assert session.inbox[0].event.text == whole
    answered = session.answered(session.inbox[0].event)
    assert len((answered.messages[-1].text or "").encode()) <= bounds.MAX_STORED_TEXT_BYTES


def test_folded_messages_keep_only_the_head_of_their_text():
    session = fresh()
    for n in range(bounds.MAX_INBOX_MESSAGES + 1):
        session = session.admitted(message(n, EMOJI * WHATSAPP_MAX_TEXT), NOW, NOW)
    folded = [m for m in session.messages if m.overflow]
    assert folded
    assert all(len((m.text or "").encode()) <= bounds.MAX_STORED_TEXT_BYTES for m in folded)
