"""The send path's world in memory, as Firestore and Cloud Tasks behave for it.

Every outbox write gives the record a new update time, and `put_if_unchanged` writes only
while the stored one is still the time it is given (Firestore's `last_update_time`
precondition). Reads and writes are counted per document, so a test can say "no read" and
"two writes" of the fast path. Replies are created as the processor creates them: in one unit
of work that also moves the session's `last_reply_id`, with the send task `FollowUps` enqueues
for that commit (the records as created, the commit's time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds

from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.dedupe import DedupeRecord
from atende.domain.handoff import HandoffRecord
from atende.domain.messages import TextMessage
from atende.domain.outbox import CallOutcome, OutboxRecord, OutboxStatus, ReplyOrigin
from atende.domain.session import Session
from atende.domain.task_attempt import DIRECT, TaskAttempt
from atende.errors import AtendeError, ProviderTransientError
from atende.ports import (
    Committed,
    ProviderSender,
    SendResult,
    TaskRequest,
    TenantDirectory,
    UnitOfWork,
)
from atende.send_outbound.sender import OutboundSender
from atende.tasks.dead_letters import DeadLetterRecorder
from atende.tasks.follow_ups import FollowUps

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAX_WAIT = timedelta(seconds=300)
#: The in-process pauses of a reply waiting for the one before it.
PAUSES = (0.05, 0.1, 0.2)
SESSION = "s1"
CONTACT = "5511999990000"
MAX_ATTEMPTS = 3


class Clock:
    def __init__(self) -> None:
        self.value = T0

    def now(self) -> datetime:
        return self.value


class Store:
    """Outbox records and the session, as the send path sees them: `OutboxStore`,
    `UnitsOfWork`, `CallNotes` and (`reader`) `SessionReader`, each read and write counted."""

    def __init__(self) -> None:
        self.records: dict[str, OutboxRecord] = {}
        self.sessions: dict[str, Session] = {}
        self.update_times: dict[str, DatetimeWithNanoseconds] = {}
        self.audit: list[AuditEntry] = []
        #: ("outbox" | "session", id) of every read, in order.
        self.reads: list[tuple[str, str]] = []
        #: (id, how) of every outbox write, in order: "put" (`put_if_unchanged`), "unit" (a
        #: unit of work), "note" (`note_call`), "other" (another writer: `write`).
        self.writes: list[tuple[str, str]] = []
        self.session_writes = 0
        #: Ids whose `put_if_unchanged` found the record changed.
        self.refused: list[str] = []
        self.units = 0
        #: (status, error): the next write of a record in that status raises the error.
        self.faults: list[tuple[OutboxStatus, Exception]] = []
        self._ticks = 0

    # -- what tests look at ------------------------------------------------------------
    def outbox_reads(self) -> list[str]:
        return [key for kind, key in self.reads if kind == "outbox"]

    def session_reads(self) -> int:
        return sum(1 for kind, _ in self.reads if kind == "session")

    def writes_to(self, outbox_id: str) -> list[str]:
        return [how for key, how in self.writes if key == outbox_id]

    def status(self, outbox_id: str) -> OutboxStatus:
        return self.records[outbox_id].status

    def audit_of(self, kind: AuditKind) -> list[AuditEntry]:
        return [entry for entry in self.audit if entry.kind == kind]

    def fail_write(self, status: OutboxStatus, error: Exception) -> None:
        """The next write of a record in `status` (by the sender) raises `error`."""
        self.faults.append((status, error))

    # -- writes ------------------------------------------------------------------------
    def _tick(self) -> DatetimeWithNanoseconds:
        """A new update time, later than every one before: a server's time to the
        nanosecond (not the clock), as Firestore stamps a write."""
        self._ticks += 1
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=self._ticks)
        stamp: DatetimeWithNanoseconds = DatetimeWithNanoseconds.from_rfc3339(
            at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "500Z"
        )
        return stamp

    def _check_faults(self, record: OutboxRecord) -> None:
        for index, (status, error) in enumerate(self.faults):
            if record.status == status:
                del self.faults[index]
                raise error

    def _commit(
        self,
        records: list[OutboxRecord],
        audit: tuple[AuditEntry, ...],
        how: str,
        sessions: tuple[Session, ...] = (),
    ) -> DatetimeWithNanoseconds:
        at = self._tick()
        for record in records:
            self.records[record.id] = record
            self.update_times[record.id] = at
            self.writes.append((record.id, how))
        for session in sessions:
            self.sessions[session.id] = session
            self.session_writes += 1
        self.audit.extend(audit)
        return at

    def write(self, record: OutboxRecord) -> None:
        """Another writer's write (a status webhook, a replay): the record changes."""
        self._commit([record], (), "other")

    # -- OutboxStore -------------------------------------------------------------------
    def get(self, outbox_id: str) -> OutboxRecord | None:
        self.reads.append(("outbox", outbox_id))
        return self.records.get(outbox_id)

    def for_session(self, session_id: str) -> list[OutboxRecord]:
        found = [r for r in self.records.values() if r.session_id == session_id]
        self.reads.extend(("outbox", record.id) for record in found)
        return sorted(found, key=lambda record: record.order_key)

    def put_if_unchanged(
        self, record: OutboxRecord, since: datetime, audit: tuple[AuditEntry, ...] = ()
    ) -> datetime | None:
        self._check_faults(record)
        if record.id not in self.records or not _same(self.update_times[record.id], since):
            self.refused.append(record.id)
            return None
        return self._commit([record], audit, "put")

    # -- CallNotes ---------------------------------------------------------------------
    def note_call(self, outbox_id: str, call: CallOutcome, error: str, at: datetime) -> None:
        noted = self.records[outbox_id].model_copy(
            update={"last_call": call, "last_error": error, "updated_at": at}
        )
        self._commit([noted], (), "note")

    # -- UnitsOfWork -------------------------------------------------------------------
    def run(self, work: Callable[[UnitOfWork], Any]) -> Committed[Any]:
        """`work` on staged writes, committed when it returns; run again when a document it
        read changed meanwhile (as a Firestore transaction would)."""
        while True:
            self.units += 1
            unit = _Unit(self)
            result = work(unit)
            if any(not _same(self.update_times.get(key), at) for key, at in unit.read_at.items()):
                continue
            for record in unit.staged:
                self._check_faults(record)
            written = bool(unit.staged or unit.staged_sessions)
            if not written:
                self.audit.extend(unit.staged_audit)
                return Committed(result, None)
            at = self._commit(
                unit.staged, tuple(unit.staged_audit), "unit", tuple(unit.staged_sessions)
            )
            return Committed(result, at)

    @property
    def reader(self) -> SessionReads:
        return SessionReads(self)


def _same(stored: datetime | None, given: datetime | None) -> bool:
    """Update times compared to the nanosecond (a datetime's `==` stops at microseconds)."""

    def stamp(at: datetime | None) -> str | None:
        rfc3339 = getattr(at, "rfc3339", None)
        return str(rfc3339()) if callable(rfc3339) else None if at is None else at.isoformat()

    return stamp(stored) == stamp(given)


class SessionReads:
    """`SessionReader` over the store (a plain read, counted)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, session_id: str) -> Session | None:
        self._store.reads.append(("session", session_id))
        return self._store.sessions.get(session_id)


class _Unit:
    """One unit of work: reads see the store, writes wait for its commit."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.read_at: dict[str, DatetimeWithNanoseconds | None] = {}
        self.staged: list[OutboxRecord] = []
        self.staged_sessions: list[Session] = []
        self.staged_audit: list[AuditEntry] = []

    @property
    def outbox(self) -> _UnitOutbox:
        return _UnitOutbox(self)

    @property
    def sessions(self) -> _UnitSessions:
        return _UnitSessions(self)

    @property
    def handoffs(self) -> _Nothing:
        return _Nothing()

    @property
    def dedupe(self) -> _Nothing:
        return _Nothing()

    def audit(self, entries: tuple[AuditEntry, ...]) -> None:
        self.staged_audit.extend(entries)

    def checkpoint(self, name: str) -> None:
        return None


class _UnitOutbox:
    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    def get(self, outbox_id: str) -> OutboxRecord | None:
        store = self._unit._store
        store.reads.append(("outbox", outbox_id))
        self._unit.read_at[outbox_id] = store.update_times.get(outbox_id)
        return store.records.get(outbox_id)

    def add(self, record: OutboxRecord) -> None:
        assert record.id not in self._unit._store.records, "created twice"
        self._unit.staged.append(record)

    def save(self, record: OutboxRecord) -> None:
        assert self._unit.read_at.get(record.id), "an outbox record is read before it is saved"
        self._unit.staged.append(record)


class _UnitSessions:
    def __init__(self, unit: _Unit) -> None:
        self._unit = unit

    def get(self, session_id: str) -> Session | None:
        self._unit._store.reads.append(("session", session_id))
        return self._unit._store.sessions.get(session_id)

    def save(self, session: Session) -> Session:
        self._unit.staged_sessions.append(session)
        return session


class _Nothing:
    """The send path touches no dedupe or handoff document."""

    def seen(self, key: str) -> bool:
        raise AssertionError("the send path reads no dedupe record")

    def add(self, key: str, record: DedupeRecord) -> None:
        raise AssertionError("the send path writes no dedupe record")

    def save(self, record: HandoffRecord) -> None:
        raise AssertionError("the send path writes no handoff")


def refused(code: str = "provider_5xx") -> ProviderTransientError:
    """The provider answered with an error: nothing was sent."""
    error = ProviderTransientError("provider error", code=code)
    error.attempts, error.failures = 1, (code,)
    return error


def timed_out() -> ProviderTransientError:
    """No answer: the provider may have the message."""
    error = ProviderTransientError("timeout", code="timeout")
    error.attempts, error.failures = 1, ("timeout",)
    return error


class Provider:
    """A provider that accepts every reply, except the failures scripted for one."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failures: dict[str, list[AtendeError]] = {}

    def fail(self, outbox_id: str, *errors: AtendeError) -> None:
        self.failures.setdefault(outbox_id, []).extend(errors)

    def send(self, record: OutboxRecord) -> SendResult:
        scripted = self.failures.get(record.id)
        if scripted:
            raise scripted.pop(0)
        self.sent.append(record.id)
        return SendResult(provider_message_id=f"wamid.out.{record.id}", attempts=1)


class Checkpoints:
    """Named points of the sender; a test hooks what happens there (a crash, a webhook)."""

    def __init__(self) -> None:
        self.hooks: dict[str, Callable[[], None]] = {}

    def reached(self, name: str) -> None:
        hook = self.hooks.get(name)
        if hook is not None:
            hook()


class Pauses:
    """The sender's sleep: records each pause and runs what a test says happens meanwhile."""

    def __init__(self) -> None:
        self.taken: list[float] = []
        self.meanwhile: Callable[[int], None] | None = None

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        if self.meanwhile is not None:
            self.meanwhile(len(self.taken))


class Queue:
    def __init__(self) -> None:
        self.tasks: list[TaskRequest] = []

    def enqueue(self, task: TaskRequest) -> bool:
        self.tasks.append(task)
        return True


def out(number: int, task: str = "out-task") -> TaskAttempt:
    """Attempt `number` of a send task, out of `MAX_ATTEMPTS`."""
    return TaskAttempt(queue="atende-outbound", task_name=task, retry_count=number - 1,
                       max_attempts=MAX_ATTEMPTS)  # fmt: skip


@dataclass
class World:
    clock: Clock
    store: Store
    provider: Provider
    queue: Queue
    checkpoints: Checkpoints
    pauses: Pauses
    tenant: str
    sender: OutboundSender = field(init=False)

    @property
    def session(self) -> Session:
        return self.store.sessions[SESSION]

    def commit(self, *ids: str, origins: Mapping[str, ReplyOrigin] | None = None) -> bytes:
        """One turn's replies, created as the processor creates them (each after the
        session's newest reply, in one unit of work with the session); the body of the
        send task enqueued for that commit."""
        origins = origins or {}

        def work(uow: UnitOfWork) -> tuple[OutboxRecord, ...]:
            session = uow.sessions.get(SESSION)
            assert session is not None
            records = []
            for outbox_id in ids:
                seq = session.reply_seq + 1
                now = self.clock.now()
                record = OutboxRecord(
                    id=outbox_id, tenant_id=self.tenant, channel="whatsapp",
                    session_id=SESSION, account_id="106540352242922", recipient=CONTACT,
                    message=TextMessage(body=f"reply {outbox_id}"), inbound_event_id="wamid.A",
                    reply_index=len(records), order_key=f"{seq:012d}",
                    origin=origins.get(outbox_id, ReplyOrigin.BOT),
                    after=session.last_reply_id, created_at=now, updated_at=now,
                    expire_at=now + timedelta(days=30),
                )  # fmt: skip
                uow.outbox.add(record)
                records.append(record)
                session = session.model_copy(update={"reply_seq": seq, "last_reply_id": outbox_id})
            uow.sessions.save(session)
            return tuple(records)

        committed = self.store.run(work)
        FollowUps(self.queue).replies(committed.result, committed.at, "corr")
        return self.queue.tasks[-1].body

    def redelivery(self) -> bytes:
        """The task a redelivered turn enqueues: the session's unsettled replies."""
        FollowUps(self.queue).unsettled(self.session, "corr")
        return self.queue.tasks[-1].body

    def opt_out(self) -> None:
        self.store.sessions[SESSION] = self.session.model_copy(update={"opted_out": True})

    def send(self, body: bytes, attempt: TaskAttempt = DIRECT) -> str:
        return self.sender.handle(body, "corr", attempt)

    def counting_from_here(self) -> None:
        """Forget the reads and writes so far (the commits that made the replies)."""
        self.store.reads.clear()
        self.store.writes.clear()
        self.store.refused.clear()
        self.store.units = self.store.session_writes = 0


def build(
    *,
    tenant: str = "demo",
    tenants: TenantDirectory | None = None,
    dry_run_senders: Mapping[str, ProviderSender] | None = None,
    dead_letters: Callable[[Store, Clock], DeadLetterRecorder] | None = None,
) -> World:
    clock, store = Clock(), Store()
    store.sessions[SESSION] = Session(
        id=SESSION, tenant_id=tenant, channel="whatsapp", contact_id=CONTACT,
        account_id="106540352242922", created_at=T0, updated_at=T0,
    )  # fmt: skip
    world = World(clock, store, Provider(), Queue(), Checkpoints(), Pauses(), tenant)
    world.sender = OutboundSender(
        store,
        store,
        {"whatsapp": world.provider},
        clock,
        world.checkpoints,
        MAX_WAIT,
        dead_letters(store, clock) if dead_letters else None,
        call_notes=store,
        tenants=tenants,
        dry_run_senders=dry_run_senders,
        order_pauses=PAUSES,
        sleep=world.pauses,
    )
    return world
