"""process_inbound on in-memory units of work: the fakes and steps its unit tests share."""

from datetime import UTC, datetime, timedelta

from atende.conversation.engine import ConversationEngine
from atende.domain import keys
from atende.domain.events import (
    CalendarEventCreated,
    MessageKind,
    MessageReceived,
)
from atende.ports import CalendarChanges, Committed
from atende.process_inbound.conversation_deps import AiStep, ConversationDeps
from atende.process_inbound.processor import InboundProcessor
from atende.process_inbound.settings import ProcessingSettings
from atende.tasks.contracts import AnswerTask, IdleTask, InboundTask
from atende.tenants.tenant_config import TenantConfig

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
CONTACT = "5511999990000"
SESSION = keys.session_id("demo", "whatsapp", CONTACT)


class Clock:
    def __init__(self):
        self.value = T0

    def now(self):
        return self.value


class MemoryStore:
    """The units of work in memory: one dict per collection, no concurrency."""

    def __init__(self, clock):
        self.clock = clock
        self.sessions, self.dedupe, self.outbox, self.audit, self.handoffs = {}, {}, {}, [], {}
        self.in_transaction = False
        self.comments = {}

    def _duplicate(self, key):
        record = self.dedupe.get(key)
        return record is not None and not record.expired(self.clock.now())

    def run(self, work):
        """UnitsOfWork: `work` on staged writes, committed only when it returns."""
        uow = MemoryUnitOfWork(self)
        self.in_transaction = True
        try:
            result = work(uow)
        finally:
            self.in_transaction = False
        uow.commit()
        return Committed(result, self.clock.now())

    def get(self, session_id):
        return self.sessions.get(session_id)


class MemoryUnitOfWork:
    """One unit of work on a MemoryStore: reads see the store, writes wait for commit."""

    def __init__(self, store):
        self.store = store
        self.staged_sessions, self.staged_outbox, self.staged_audit = {}, {}, []
        self.staged_handoffs, self.staged_comments, self.staged_dedupe = {}, {}, {}

    @property
    def sessions(self):
        return self

    @property
    def outbox(self):
        return _Outbox(self.staged_outbox, self.store.outbox)

    @property
    def comments(self):
        return _Adder(self.staged_comments, self.store.comments)

    @property
    def handoffs(self):
        return _Adder(self.staged_handoffs, {}, key=lambda record: record.session_id)

    @property
    def dedupe(self):
        return _Dedupe(self)

    def get(self, session_id):
        return self.store.sessions.get(session_id)

    def save(self, session):
        self.staged_sessions[session.id] = session
        return session

    def audit(self, entries):
        self.staged_audit.extend(entries)

    def checkpoint(self, name):
        return None

    def commit(self):
        self.store.dedupe.update(self.staged_dedupe)
        self.store.sessions.update(self.staged_sessions)
        self.store.outbox.update(self.staged_outbox)
        self.store.audit.extend(self.staged_audit)
        self.store.handoffs.update(self.staged_handoffs)
        self.store.comments.update(self.staged_comments)


class _Dedupe:
    def __init__(self, uow):
        self.uow = uow

    def seen(self, key):
        return self.uow.store._duplicate(key)

    def add(self, key, record):
        self.uow.staged_dedupe[key] = record


class _Adder:
    def __init__(self, staged, existing, key=lambda record: record.id):
        self.staged, self.existing, self.key = staged, existing, key

    def get(self, key):
        return self.staged.get(key, self.existing.get(key))

    def add(self, record):
        assert self.key(record) not in self.existing, "created twice"
        self.staged[self.key(record)] = record

    def save(self, record):
        self.staged[self.key(record)] = record

    put = save


class _Outbox(_Adder):
    def by_provider_message_id(self, channel, provider_message_id):
        return next(
            (
                r
                for r in (*self.staged.values(), *self.existing.values())
                if r.channel == channel and r.provider_message_id == provider_message_id
            ),
            None,
        )


class Tenants:
    def __init__(self, config=None):
        self.config = config or TenantConfig()

    def get(self, tenant_id):
        return self.config


class Queue:
    def __init__(self):
        self.tasks = []

    def enqueue(self, task):
        self.tasks.append(task)
        return True


class NoCheckpoints:
    def reached(self, name):
        return None


class ScriptedAi:
    """Answers from a list; refuses to be called inside a transaction."""

    def __init__(self, store, *answers):
        self.store = store
        self.answers = list(answers)
        self.calls = 0

    def suggest(self, request):
        assert not self.store.in_transaction, "the AI was called inside a transaction"
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeCalendarSync:
    """Hands out scripted changes; records when the cursor moved, against what was queued."""

    def __init__(self, queue, events):
        self.queue = queue
        self.events = events
        self.advanced = []

    def changes(self, tenant_id, calendar_id):
        return CalendarChanges(events=tuple(self.events), cursor={"token": "next"})

    def advance(self, calendar_id, cursor):
        self.advanced.append((calendar_id, cursor, len(self.queue.tasks)))


def build(tenant=None, ai_answers=None, calendar_events=()):
    clock = Clock()
    store = MemoryStore(clock)
    queue = Queue()
    ai = ScriptedAi(store, *ai_answers) if ai_answers is not None else None
    calendar = FakeCalendarSync(queue, list(calendar_events))
    processor = InboundProcessor(
        store,
        queue,
        ConversationEngine(),
        clock,
        NoCheckpoints(),
        ProcessingSettings(
            dedupe_ttl=timedelta(days=7),
            outbox_ttl=timedelta(days=30),
            answer_hold=timedelta(seconds=1),
        ),
        ConversationDeps(
            Tenants(tenant),
            store,
            ai=AiStep(ai, history_chars=4000) if ai else None,
            calendars=lambda channel: calendar,
        ),
    )
    processor.calendar = calendar
    return processor, store, queue, clock, ai


def text(message_id, body, at=T0):
    return MessageReceived(
        channel="whatsapp",
        event_id=message_id,
        account_id="106540352242922",
        contact_id=CONTACT,
        occurred_at=at,
        message_id=message_id,
        kind=MessageKind.TEXT,
        text=body,
    )


def say(processor, clock, message):
    """Admit the message, then run its answer task once the hold has passed."""
    task = InboundTask(tenant_id="demo", event=message, received_at=clock.now())
    processor.handle(task.model_dump_json().encode(), "corr")
    clock.value += timedelta(seconds=2)
    answer = AnswerTask(
        tenant_id="demo", channel="whatsapp", session_id=SESSION, message_id=message.message_id
    )
    return processor.handle(answer.model_dump_json().encode(), "corr")


def idle_task(store, due_at, seq=None):
    session = store.sessions[SESSION]
    return (
        IdleTask(
            tenant_id="demo",
            channel="whatsapp",
            session_id=SESSION,
            activity_seq=session.activity_seq if seq is None else seq,
            due_at=due_at,
        )
        .model_dump_json()
        .encode()
    )


def inbound(event):
    return InboundTask(tenant_id="demo", event=event).model_dump_json().encode()


def appointment(kind=CalendarEventCreated, contact_ref=f"whatsapp:{CONTACT}", version="1"):
    return kind(
        channel="google_calendar",
        event_id=f"evt-1:{version}",
        account_id="agenda@loja.example",
        occurred_at=T0,
        calendar_id="agenda@loja.example",
        calendar_event_id="evt-1",
        summary="Corte de cabelo",
        starts_at=datetime(2026, 11, 26, 17, 30, tzinfo=UTC),
        contact_ref=contact_ref,
    )
