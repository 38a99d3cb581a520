"""The pure decisions behind processing, status updates and sending."""

from datetime import UTC, datetime, timedelta

import pytest

from atende.conversation.engine import ConversationEngine
from atende.domain.audit import AuditKind
from atende.domain.events import (
    MessageDelivered,
    MessageFailed,
    MessageKind,
    MessageRead,
    MessageReceived,
    MessageSent,
    ProviderError,
)
from atende.domain.messages import TextMessage
from atende.domain.outbox import OutboxRecord, OutboxStatus
from atende.errors import ProviderPermanentError, ProviderTransientError
from atende.ports import SendResult
from atende.process_inbound.decisions import (
    DecisionContext,
    HoldNotElapsedError,
    admit_message,
    answer_inbox,
)
from atende.process_inbound.statuses import decide_status
from atende.send_outbound import decisions as send_decision
from atende.send_outbound.decisions import SendContext, decide_send, waits_for
from atende.tenants.tenant_config import DEFAULT_CONFIG

GREETING = DEFAULT_CONFIG.messages.greeting
TRIAGE_QUESTION = DEFAULT_CONFIG.messages.triage_question

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOLD = timedelta(seconds=1)
CTX = DecisionContext(
    tenant_id="demo",
    session_id="s1",
    now=NOW,
    outbox_ttl=timedelta(days=30),
    dedupe_ttl=timedelta(days=7),
    hold=HOLD,
    correlation_id="c1",
)


def inbound(message_id="wamid.A", text="Oi", at=NOW):
    return MessageReceived(
        channel="whatsapp",
        event_id=message_id,
        account_id="106540352242922",
        contact_id="5511999990000",
        occurred_at=at,
        message_id=message_id,
        kind=MessageKind.TEXT,
        text=text,
        raw={"id": message_id, "from": "5511999990000"},
    )


def admitted(*messages, arrived_at=NOW - HOLD, session=None):
    for message in messages:
        session = admit_message(session, message, arrived_at, CTX) or session
    return session


def decide_message(current, message, flow, ctx):
    """Admit then answer once the hold has passed: the two steps of processing."""
    session = admit_message(current, message, ctx.now - ctx.hold, ctx) or current
    return answer_inbox(session, flow, ctx)


def test_first_message_creates_the_session_two_ordered_replies_and_an_audit_trail():
    decision = decide_message(None, inbound(), ConversationEngine(), CTX)
    assert decision.session.state == "triage"
    assert [r.message.body for r in decision.outbox] == [GREETING, TRIAGE_QUESTION]
    assert [r.reply_index for r in decision.outbox] == [0, 1]
    assert decision.outbox[0].order_key < decision.outbox[1].order_key
    # Each reply is sent after the one before it; the session knows the last one.
    assert [r.after for r in decision.outbox] == [None, decision.outbox[0].id]
    assert decision.session.last_reply_id == decision.outbox[1].id
    assert all(
        r.recipient == "5511999990000" and r.status == OutboxStatus.PENDING for r in decision.outbox
    )
    kinds = [entry.kind for entry in decision.audit]
    assert kinds == [AuditKind.STATE_TRANSITION, AuditKind.REPLY_QUEUED]
    assert decision.audit[0].detail == {"from": "new", "to": "triage", "reason": "greeted"}
    # The session is the message's dedupe: a redelivery of it is recognised.
    assert decision.session.has_message("wamid.A")
    assert decision.session.inbox == () and [
        m.id for m in decision.session.messages if m.author == "contact"
    ] == ["wamid.A"]


def test_the_inbox_does_not_keep_the_raw_provider_item():
    session = admitted(inbound())
    assert session.inbox[0].event.raw == {}


def test_outbox_ids_are_the_same_when_the_decision_runs_again():
    first = decide_message(None, inbound(), ConversationEngine(), CTX)
    again = decide_message(None, inbound(), ConversationEngine(), CTX)
    assert [r.id for r in first.outbox] == [r.id for r in again.outbox]


def test_a_message_already_in_the_session_is_not_admitted_again():
    first = decide_message(None, inbound(), ConversationEngine(), CTX)
    assert admit_message(first.session, inbound(), NOW, CTX) is None
    assert admit_message(admitted(inbound()), inbound(), NOW, CTX) is None


def test_messages_are_answered_in_the_order_they_were_written_not_the_order_they_arrived():
    later, earlier = (
        inbound("wamid.B", "tudo bem?", NOW + timedelta(seconds=1)),
        inbound("wamid.A", "Oi", NOW),
    )
    session = admitted(later, earlier)  # B's task ran first
    decision = answer_inbox(session, ConversationEngine(), CTX)
    answered = [r.inbound_event_id for r in decision.outbox]
    assert answered == ["wamid.A", "wamid.A", "wamid.B"]
    assert [r.order_key for r in decision.outbox] == sorted(r.order_key for r in decision.outbox)
    assert [m.id for m in decision.session.messages if m.author == "contact"] == [
        "wamid.A",
        "wamid.B",
    ]
    assert decision.session.has_message("wamid.A") and decision.session.has_message("wamid.B")


def test_a_message_inside_its_hold_waits_and_so_do_the_ones_written_after_it():
    fresh = CTX.now - timedelta(seconds=0.2)
    session = admitted(inbound("wamid.A"), arrived_at=fresh)
    session = admitted(
        inbound("wamid.B", at=NOW + timedelta(seconds=1)), arrived_at=fresh, session=session
    )
    assert answer_inbox(session, ConversationEngine(), CTX).outbox == ()
    with pytest.raises(HoldNotElapsedError):
        answer_inbox(session, ConversationEngine(), CTX, awaited="wamid.A")


def test_an_earlier_written_message_still_in_its_hold_is_answered_with_a_later_ready_one():
    ready_later = admitted(inbound("wamid.B", at=NOW + timedelta(seconds=1)))
    session = admitted(inbound("wamid.A"), arrived_at=NOW, session=ready_later)
    decision = answer_inbox(session, ConversationEngine(), CTX, awaited="wamid.B")
    assert [m.id for m in decision.session.messages if m.author == "contact"] == [
        "wamid.A",
        "wamid.B",
    ]


def test_no_personal_data_in_audit_entries():
    decision = decide_message(None, inbound(text="meu cpf é 123"), ConversationEngine(), CTX)
    dumped = str([entry.model_dump() for entry in decision.audit])
    assert "5511999990000" not in dumped and "cpf" not in dumped and "wamid.A" not in dumped


def record(status=OutboxStatus.PENDING, **fields) -> OutboxRecord:
    return OutboxRecord(
        id=fields.pop("id", "o1"),
        tenant_id="demo",
        channel="whatsapp",
        session_id="s1",
        account_id="106540352242922",
        recipient="5511999990000",
        message=TextMessage(body="oi"),
        inbound_event_id="wamid.A",
        reply_index=0,
        order_key=fields.pop("order_key", "1"),
        status=status,
        created_at=fields.pop("created_at", NOW),
        updated_at=NOW,
        expire_at=NOW + timedelta(days=30),
        **fields,
    )


def status(kind, **fields):
    return kind(
        channel="whatsapp",
        event_id=f"wamid.OUT:{kind.__name__}",
        account_id="106540352242922",
        occurred_at=NOW,
        provider_message_id="wamid.OUT",
        **fields,
    )


def test_delivery_status_only_moves_forward():
    read = decide_status(record(OutboxStatus.SENT), status(MessageRead), NOW, "demo").record
    assert read.delivery_status == "message_read"
    late_delivered = decide_status(read, status(MessageDelivered), NOW, "demo")
    assert late_delivered.record.delivery_status == "message_read"
    assert late_delivered.audit[0].detail["outcome"] == "stale"


def test_a_failed_status_keeps_the_provider_errors():
    failed = decide_status(
        record(OutboxStatus.SENT),
        status(MessageFailed, errors=(ProviderError(code=131047, title="Re-engagement message"),)),
        NOW,
        "demo",
    ).record
    assert failed.delivery_status == "message_failed"
    assert failed.delivery_errors[0]["code"] == 131047


def test_a_status_proves_a_send_we_could_not_confirm():
    held = record(OutboxStatus.NEEDS_REVIEW)
    confirmed = decide_status(held, status(MessageSent), NOW, "demo").record
    assert confirmed.status == OutboxStatus.SENT
    assert confirmed.provider_message_id == "wamid.OUT"
    assert confirmed.history[-1].detail == "confirmed_by_message_sent"


def test_a_status_for_a_message_we_never_sent_is_audited_only():
    decision = decide_status(None, status(MessageSent), NOW, "demo")
    assert decision.record is None
    assert decision.audit[0].detail["outcome"] == "unknown_message"


SEND_CTX = SendContext(now=NOW, max_order_wait=timedelta(minutes=5))


def test_a_settled_record_is_never_sent_again():
    for settled in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.NEEDS_REVIEW):
        assert decide_send(record(settled), SEND_CTX).action == "done"
    assert decide_send(None, SEND_CTX).action == "done"


def test_a_record_found_mid_send_is_held_for_review_not_resent():
    gate = decide_send(record(OutboxStatus.SENDING), SEND_CTX)
    assert gate.action == "hold"
    assert gate.record.status == OutboxStatus.NEEDS_REVIEW
    assert gate.audit[0].kind == AuditKind.REVIEW_REQUIRED


def test_a_reply_waits_for_the_unsettled_reply_before_it():
    earlier = record(id="o0", order_key="0")
    mine = record(after="o0")
    assert waits_for(mine, earlier, SEND_CTX) == (True, ())
    assert waits_for(mine, record(OutboxStatus.SENT, id="o0"), SEND_CTX) == (False, ())
    assert waits_for(mine, None, SEND_CTX) == (False, ())  # expired, or never written


def test_a_reply_stops_waiting_after_the_maximum_wait_and_says_so():
    stale = record(id="o0", order_key="0", created_at=NOW - timedelta(minutes=10))
    waiting, audit = waits_for(record(after="o0"), stale, SEND_CTX)
    assert not waiting
    assert audit[0].kind == AuditKind.ORDER_BYPASSED and audit[0].detail == {"waited_for": "o0"}


def test_claiming_marks_the_record_sending():
    gate = decide_send(record(), SEND_CTX)
    assert gate.record.status == OutboxStatus.SENDING and gate.record.version == 1


def test_sent_records_every_failed_attempt_before_the_success():
    result = SendResult(
        provider_message_id="wamid.X", attempts=3, failures=("http_500", "http_500")
    )
    done = send_decision.sent(record(OutboxStatus.SENDING), NOW, result)
    assert done.status == OutboxStatus.SENT and done.attempts == 3
    assert [(h.status, h.attempt, h.detail) for h in done.history] == [
        ("retrying", 1, "http_500"),
        ("retrying", 2, "http_500"),
        ("sent", 3, "provider_accepted"),
    ]


def test_permanent_failure_marks_failed_and_transient_marks_retrying():
    permanent = ProviderPermanentError("no", code="meta_131047")
    permanent.attempts, permanent.failures = 1, ("meta_131047",)
    assert (
        send_decision.failed(record(OutboxStatus.SENDING), NOW, permanent).status
        == OutboxStatus.FAILED
    )
    transient = ProviderTransientError("later", code="http_503")
    transient.attempts, transient.failures = 3, ("http_503",) * 3
    retrying = send_decision.failed(record(OutboxStatus.SENDING), NOW, transient)
    assert retrying.status == OutboxStatus.RETRYING and retrying.attempts == 3
    assert retrying.last_error == "http_503"


def test_a_failure_never_overwrites_a_send_a_status_webhook_confirmed():
    confirmed = record(OutboxStatus.SENT)
    assert send_decision.failed(confirmed, NOW, ProviderTransientError("x")) == confirmed
