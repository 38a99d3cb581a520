"""The processing use case with an in-memory store: reactions, inactivity timers, and the AI
called before (never inside) the transaction, with its fallbacks logged for the metric."""

import logging
from datetime import timedelta

import pytest
from tests.unit.process_inbound.process_world import (
    CONTACT,
    SESSION,
    T0,
    appointment,
    build,
    idle_task,
    inbound,
    say,
    text,
)

from atende.ai.contract import AiReply, AiUnavailableError
from atende.domain import keys
from atende.domain.audit import AuditKind
from atende.domain.events import (
    CalendarEventCancelled,
    CalendarSyncRequested,
    CommentReceived,
    ReactionReceived,
    VideoPublished,
)
from atende.domain.outbox import OutboxStatus, ReplyOrigin
from atende.errors import TransientError
from atende.fsm.states import State
from atende.process_inbound.decisions import HoldNotElapsedError
from atende.tasks.contracts import InboundBatch, InboundTask
from atende.tenants.tenant_config import AiConfig, TenantConfig


def test_a_reaction_is_recorded_under_its_own_kind_and_not_answered():
    processor, store, queue, _clock, _ai = build()
    reaction = ReactionReceived(
        channel="whatsapp",
        event_id="wamid.R",
        account_id="106540352242922",
        contact_id=CONTACT,
        occurred_at=T0,
        message_id="wamid.R",
        target_message_id="wamid.X",
        emoji="👍",
    )
    body = InboundTask(tenant_id="demo", event=reaction).model_dump_json().encode()
    assert processor.handle(body, "corr") == "recorded_reaction_received"
    assert processor.handle(body, "corr") == "duplicate"
    assert [entry.kind for entry in store.audit] == [AuditKind.REACTION]
    assert queue.tasks == [] and store.outbox == {}


def test_every_answer_sets_an_inactivity_timer_that_closes_the_idle_session():
    processor, store, queue, clock, _ai = build(TenantConfig(idle_timeout_seconds=60))
    say(processor, clock, text("wamid.1", "Oi"))
    [timer] = [task for task in queue.tasks if task.task_id.startswith("idle-")]
    assert timer.schedule_at == clock.now() + timedelta(seconds=60)

    with pytest.raises(HoldNotElapsedError):  # fired early: retried, never acted on
        processor.handle(timer.body, "corr")
    clock.value = timer.schedule_at
    assert processor.handle(timer.body, "corr") == "closed"
    session = store.sessions[SESSION]
    assert session.state == State.CLOSED and session.transitions[-1].reason == "idle_timeout"
    closing = [r for r in store.outbox.values() if r.inbound_event_id.startswith("idle:")]
    assert len(closing) == 1
    # A redelivered timer closes nothing twice and only re-enqueues the pending send.
    assert processor.handle(timer.body, "corr") == "closed"
    assert len(store.outbox) == 3


def test_a_timer_for_an_older_activity_does_nothing():
    processor, store, _queue, clock, _ai = build()
    say(processor, clock, text("wamid.1", "Oi"))
    stale = idle_task(store, clock.now(), seq=store.sessions[SESSION].activity_seq)
    say(processor, clock, text("wamid.2", "Quero ajuda", at=T0 + timedelta(seconds=5)))
    clock.value += timedelta(hours=1)
    before = store.sessions[SESSION]
    assert processor.handle(stale, "corr") == "not_idle"
    assert store.sessions[SESSION] == before


def test_the_ai_is_asked_before_the_transaction_and_its_reply_is_used():
    reply = AiReply(
        reply="Temos, sim! Quer ver as cores?",
        next_state="waiting_user",
        handoff=False,
        confidence=0.9,
    )
    tenant = TenantConfig(ai=AiConfig(enabled=True))
    processor, store, _queue, clock, ai = build(tenant, ai_answers=[reply])
    say(processor, clock, text("wamid.1", "Oi"))
    assert ai.calls == 0  # the greeting is never the AI's
    say(processor, clock, text("wamid.2", "Tem camisa azul?", at=T0 + timedelta(seconds=5)))
    assert ai.calls == 1
    bodies = [r.message.body for r in sorted(store.outbox.values(), key=lambda r: r.order_key)]
    assert bodies[-1] == "Temos, sim! Quer ver as cores?"
    assert store.sessions[SESSION].state == State.WAITING_USER


def test_an_ai_failure_is_logged_once_for_the_metric_and_the_deterministic_reply_goes_out(
    caplog,
):
    tenant = TenantConfig(ai=AiConfig(enabled=True))
    processor, store, _queue, clock, ai = build(tenant, ai_answers=[AiUnavailableError("timeout")])
    say(processor, clock, text("wamid.1", "Oi"))
    with caplog.at_level(logging.WARNING):
        say(processor, clock, text("wamid.2", "Tem camisa azul?", at=T0 + timedelta(seconds=5)))
    assert ai.calls == 1  # recorded once, replayed inside the transaction
    fallbacks = [
        r for r in caplog.records if getattr(r, "json_fields", {}).get("outcome") == "ai_fallback"
    ]
    assert [r.json_fields["reason"] for r in fallbacks] == ["timeout"]
    decisions = [e.detail for e in store.audit if e.kind == AuditKind.AI_DECISION]
    assert decisions == [{"outcome": "fallback", "reason": "timeout"}]
    bodies = [r.message.body for r in sorted(store.outbox.values(), key=lambda r: r.order_key)]
    assert bodies[-1] == TenantConfig().messages.default_answer


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (
            CommentReceived(
                channel="instagram", event_id="c1", account_id="ig1", contact_id="u1",
                occurred_at=T0, comment_id="c1", target_id="m1", text="Quanto custa?",
            ),
            AuditKind.COMMENT,
        ),
        (
            VideoPublished(
                channel="youtube", event_id="v1:1", account_id="UC1", occurred_at=T0,
                video_id="v1", title="Lançamento",
            ),
            AuditKind.CONTENT_PUBLISHED,
        ),
    ],
)  # fmt: skip
def test_comments_and_videos_are_recorded_once_and_never_answered(event, kind):
    processor, store, queue, _clock, _ai = build()
    assert processor.handle(inbound(event), "corr").startswith("recorded_")
    assert processor.handle(inbound(event), "corr") == "duplicate"
    assert [entry.kind for entry in store.audit] == [kind]
    assert queue.tasks == [] and store.outbox == {}
    if isinstance(event, CommentReceived):
        [comment] = store.comments.values()
        assert comment.text == "Quanto custa?" and comment.status == "new"


def test_an_appointment_sends_its_notice_where_the_contact_talks_to_us_once():
    processor, store, queue, clock, _ai = build()
    say(processor, clock, text("wamid.1", "Oi"))
    seq = store.sessions[SESSION].activity_seq
    assert processor.handle(inbound(appointment()), "corr") == "appointment_notified"
    assert processor.handle(inbound(appointment()), "corr") == "duplicate"
    notices = [r for r in store.outbox.values() if r.inbound_event_id.startswith("google")]
    assert [r.message.body for r in notices] == [
        "Seu agendamento (Corte de cabelo) está confirmado para 26/11/2026 às 14:30."
    ]
    assert notices[0].channel == "whatsapp" and notices[0].recipient == CONTACT
    assert store.sessions[SESSION].activity_seq == seq  # an appointment is not activity
    # Sent after the greeting's replies (`after`), by a send task of its own.
    greeting = [r for r in store.outbox.values() if r.inbound_event_id == "wamid.1"]
    assert notices[0].after == max(greeting, key=lambda r: r.order_key).id
    assert store.sessions[SESSION].last_reply_id == notices[0].id
    assert any(t.task_id == keys.outbound_task_id(notices[0].id) for t in queue.tasks)
    cancelled = appointment(CalendarEventCancelled, version="2")
    assert processor.handle(inbound(cancelled), "corr") == "appointment_notified"
    details = [e.detail for e in store.audit if e.kind == AuditKind.APPOINTMENT]
    assert [d["change"] for d in details] == ["created", "cancelled"]


@pytest.mark.parametrize(
    ("contact_ref", "outcome"),
    [(None, "appointment_no_contact"), ("whatsapp:5511900000000", "appointment_no_conversation")],
)
def test_an_appointment_for_nobody_we_talk_to_is_recorded_not_sent(contact_ref, outcome):
    processor, store, queue, _clock, _ai = build()
    assert processor.handle(inbound(appointment(contact_ref=contact_ref)), "corr") == outcome
    assert store.outbox == {} and queue.tasks == []
    [entry] = store.audit
    assert entry.kind == AuditKind.APPOINTMENT and entry.detail["notice"] is False


def test_a_calendar_change_notice_enqueues_each_change_then_moves_the_cursor():
    changes = [appointment(version="1"), appointment(CalendarEventCancelled, version="2")]
    processor, _store, queue, _clock, _ai = build(calendar_events=changes)
    notice = CalendarSyncRequested(
        channel="google_calendar", event_id="chan-1:7", account_id="agenda@loja.example",
        occurred_at=T0, calendar_id="agenda@loja.example", watch_id="chan-1",
    )  # fmt: skip
    assert processor.handle(inbound(notice), "corr") == "calendar_synced"
    assert [t.task_id for t in queue.tasks] == [
        keys.inbound_task_id("google_calendar", "evt-1:1"),
        keys.inbound_task_id("google_calendar", "evt-1:2"),
    ]
    # The cursor moved only once both changes were queued.
    assert processor.calendar.advanced == [("agenda@loja.example", {"token": "next"}, 2)]


def test_a_batch_task_processes_each_event_as_its_own_task_and_one_bad_event_spoils_nothing():
    processor, store, queue, clock, _ = build()
    hello = InboundTask(tenant_id="demo", event=text("wamid.1", "Oi"), received_at=clock.now())
    no_contact = InboundTask(
        tenant_id="demo",
        event=text("wamid.2", "Oi").model_copy(update={"contact_id": ""}),
        received_at=clock.now(),
    )
    batch = InboundBatch(tasks=(hello, no_contact, hello)).model_dump_json().encode()
    outcome = processor.handle(batch, "corr")
    assert outcome == "admitted=1,malformed_payload=1,present=1"
    assert [m.event.message_id for m in store.sessions[SESSION].inbox] == ["wamid.1"]
    assert [t.task_id for t in queue.tasks] == [keys.answer_task_id(SESSION, "wamid.1")] * 2


def test_a_transient_failure_in_a_batch_retries_it_after_the_other_events_are_done(monkeypatch):
    processor, store, _, clock, _ = build()
    tasks = tuple(
        InboundTask(tenant_id="demo", event=text(f"wamid.{n}", "Oi"), received_at=clock.now())
        for n in range(3)
    )
    real_run = store.run
    calls = []

    def flaky_admit(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise TransientError("store unavailable", code="store_unavailable")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(store, "run", flaky_admit)
    body = InboundBatch(tasks=tasks).model_dump_json().encode()
    with pytest.raises(TransientError):
        processor.handle(body, "corr")
    assert len(store.sessions[SESSION].inbox) == 2  # the first and the third went in
    assert processor.handle(body, "corr") == "admitted=1,present=2"
    assert len(store.sessions[SESSION].inbox) == 3


def test_an_opt_out_suppresses_the_automated_replies_not_yet_sent_in_its_own_transaction():
    processor, store, _queue, clock, _ai = build()
    say(processor, clock, text("wamid.1", "Oi"))
    greeting = {r.id for r in store.outbox.values()}
    assert {r.status for r in store.outbox.values()} == {OutboxStatus.PENDING}  # not sent yet
    say(processor, clock, text("wamid.2", "parar", at=T0 + timedelta(seconds=5)))
    records = store.outbox.values()
    assert {r.status for r in records if r.id in greeting} == {OutboxStatus.SUPPRESSED}
    [confirmation] = [r for r in records if r.id not in greeting]
    assert confirmation.origin == ReplyOrigin.NOTICE and confirmation.status == OutboxStatus.PENDING
    suppressed = [e for e in store.audit if e.detail.get("outcome") == "suppressed"]
    assert sorted(e.outbox_id for e in suppressed) == sorted(greeting)
