"""Every side effect the core needs, as a Protocol. Adapters implement them; the core never
imports an adapter, and only `bootstrap` chooses which adapter serves which port."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    # Types only: a function imports the models it uses itself, so the webhook's cold start
    # does not build the session, outbox and tenant models it never touches.
    from atende.domain.audit import AuditEntry
    from atende.domain.comment import CommentRecord
    from atende.domain.dedupe import DedupeRecord
    from atende.domain.handoff import HandoffRecord
    from atende.domain.outbox import OutboxRecord
    from atende.domain.session import Session
    from atende.errors import AtendeError
    from atende.tenants.tenant_config import TenantConfig

QueueName = Literal["inbound", "outbound"]


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class TaskRequest:
    """One HTTP task for a worker function."""

    queue: QueueName
    #: Deterministic id: the queue refuses a second task with the same id.
    task_id: str
    #: The worker function's name, for example "process_inbound".
    target: str
    body: bytes
    correlation_id: str
    schedule_at: datetime | None = None


class TaskQueue(Protocol):
    def enqueue(self, task: TaskRequest) -> bool:
        """Create the task; False when a task with that id already existed."""
        ...


class AsyncTaskQueue(Protocol):
    async def enqueue(self, task: TaskRequest) -> bool: ...


class SecretSource(Protocol):
    def get(self, name: str) -> str | None:
        """The secret's value, or None when it is not configured (callers fail closed)."""
        ...


class TaskAuthenticator(Protocol):
    def authenticate(self, headers: Mapping[str, str]) -> None:
        """Raise UnauthorizedCallerError unless the caller is our task queue."""
        ...


@dataclass(frozen=True)
class AgentCaller:
    """Who called the agent API: the tenants its token may act for, and a reference to the
    token that is safe to log (a prefix of its SHA-256, as `atende agent token list` shows)."""

    tenants: frozenset[str]
    token_ref: str

    def may_act_for(self, tenant_id: str) -> bool:
        return tenant_id in self.tenants


class AgentAuthenticator(Protocol):
    def authenticate(self, headers: Mapping[str, str]) -> AgentCaller:
        """The caller of a valid agent API token; raise UnauthorizedCallerError for a
        missing, unknown or revoked one (TransientError when the tokens cannot be read)."""
        ...


class Checkpoints(Protocol):
    """Named points between the steps of a worker; fault injection hooks in here."""

    def reached(self, name: str) -> None: ...


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    #: Provider HTTP attempts this call made, failed ones included.
    attempts: int
    #: PII-free reasons of the failed attempts, oldest first.
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderCall:
    """One provider HTTP request, built by a channel."""

    url: str
    headers: dict[str, str]
    json: dict[str, Any]


class ProviderApi(Protocol):
    """What a channel knows about its provider's send API; the HTTP adapter does the rest."""

    def prepare(self, record: OutboxRecord) -> ProviderCall:
        """The request for a record; raise InvalidOutboundMessageError before sending."""
        ...

    def message_id(self, response_body: bytes) -> str | None: ...

    def classify(self, status_code: int, response_body: bytes) -> AtendeError: ...


class ProviderSender(Protocol):
    def send(self, record: OutboxRecord) -> SendResult:
        """Send one record; raise ProviderTransientError or a PermanentError on failure.

        Errors carry `attempts` and `failures` attributes when the sender tried more than once.
        """
        ...


class SessionRepository(Protocol):
    def get(self, session_id: str) -> Session | None:
        """The session, read within the unit of work (its save is checked against this
        read); None when there is none or it is past its `expire_at`."""
        ...

    def save(self, session: Session) -> Session:
        """Write the session read before, version-checked (or create it): bounded, stamped
        with its `expire_at`, within its document budget. The session as written."""
        ...


class OutboxRepository(Protocol):
    def get(self, outbox_id: str) -> OutboxRecord | None:
        """The record, read within the unit of work (its save is checked against it)."""
        ...

    def add(self, record: OutboxRecord) -> None:
        """Create the record (its id is its idempotency key: it must not exist)."""
        ...

    def save(self, record: OutboxRecord) -> None:
        """Write a record read before, version-checked."""
        ...

    def by_provider_message_id(self, channel: str, provider_message_id: str) -> OutboxRecord | None:
        """The record the provider knows by this id (read within the unit of work)."""
        ...


class CommentRepository(Protocol):
    def get(self, comment_id: str) -> CommentRecord | None:
        """The comment, read within the unit of work (its save is checked against it)."""
        ...

    def save(self, comment: CommentRecord) -> None:
        """Write a comment read before, version-checked."""
        ...

    def put(self, comment: CommentRecord) -> None:
        """Write a comment as received (a redelivery writes the same)."""
        ...


class DedupeRepository(Protocol):
    def seen(self, key: str) -> bool:
        """An unexpired dedupe record exists at `key` (read within the unit of work)."""
        ...

    def add(self, key: str, record: DedupeRecord) -> None: ...


class HandoffRepository(Protocol):
    def save(self, record: HandoffRecord) -> None: ...


class UnitOfWork(Protocol):
    """One transaction, as a use case drives it: read first, decide, then write; nothing is
    written unless everything is."""

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def handoffs(self) -> HandoffRepository: ...

    @property
    def dedupe(self) -> DedupeRepository: ...

    @property
    def comments(self) -> CommentRepository: ...

    def audit(self, entries: tuple[AuditEntry, ...]) -> None:
        """Committed with the rest, as one audit document per unit of work."""
        ...

    def checkpoint(self, name: str) -> None:
        """A named point between writes (crash tests stop the process there)."""
        ...


ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Committed(Generic[ResultT]):
    """What a unit of work returned, and when it committed: the update time of every
    document it wrote (None when it wrote nothing, or where no store keeps one)."""

    result: ResultT
    at: datetime | None = None


class UnitsOfWork(Protocol):
    def run(self, work: Callable[[UnitOfWork], ResultT]) -> Committed[ResultT]:
        """Run `work` in one transaction and commit what it wrote. `work` may run more than
        once (a conflict re-runs it on fresh reads), so it has no other side effect."""
        ...


class OutboxStore(Protocol):
    """The outbox outside a unit of work: plain reads, and a write that needs no read."""

    def get(self, outbox_id: str) -> OutboxRecord | None: ...

    def for_session(self, session_id: str) -> list[OutboxRecord]: ...

    def put_if_unchanged(
        self, record: OutboxRecord, since: datetime, audit: tuple[AuditEntry, ...] = ()
    ) -> datetime | None:
        """Write the record, with the audit entries as one document, only if its stored
        document has not changed since `since` (its update time). The new update time, or
        None when it has changed: read it in a unit of work then."""
        ...


class SessionReader(Protocol):
    def get(self, session_id: str) -> Session | None: ...


class ChannelStateStore(Protocol):
    """Small JSON documents a channel keeps between calls: sync tokens, watch channels,
    subscriptions. Keys are the channel's own ("google_calendar:sync:<calendar>")."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        """Every stored key that starts with `prefix`, with its value."""
        ...


@dataclass(frozen=True)
class CalendarChanges:
    #: The changed appointments as calendar events (`InboundEvent`s), oldest first.
    events: tuple[Any, ...]
    #: Where the next sync starts (a sync token); saved by `advance` only once the events
    #: are safely enqueued, so a crash in between fetches them again, never loses them.
    cursor: dict[str, Any]


class CalendarSync(Protocol):
    """Fetches what changed in a calendar since the last sync (a channel's own API)."""

    def changes(self, tenant_id: str, calendar_id: str) -> CalendarChanges:
        """Raise TransientError to be retried; an expired sync token means a full resync."""
        ...

    def advance(self, calendar_id: str, cursor: dict[str, Any]) -> None: ...


class TenantDirectory(Protocol):
    def get(self, tenant_id: str) -> TenantConfig:
        """The tenant's configuration; the defaults when it has none or it is invalid (that
        is logged, never raised). Raise TransientError when the store is unreachable."""
        ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> None: ...


if TYPE_CHECKING:
    from atende.domain.dead_letter import DeadLetter
    from atende.domain.outbox import CallOutcome


class DeadLetterStore(Protocol):
    """Work a task could not finish by its last attempt (`dead_letters/{id}`), kept to be
    replayed."""

    def record(self, letter: DeadLetter, audit: tuple[AuditEntry, ...] = ()) -> bool:
        """Create the dead letter (with its audit entries) unless one with its id exists
        (a redelivered last attempt); False then."""
        ...

    def quarantine(
        self,
        letter: DeadLetter,
        session_id: str,
        message_id: str,
        audit: tuple[AuditEntry, ...] = (),
    ) -> bool:
        """Atomically take the message out of the session's inbox and record the dead letter
        holding it; False when the message is no longer in the inbox (nothing written)."""
        ...

    def get(self, letter_id: str) -> DeadLetter | None: ...

    def list_all(self) -> list[DeadLetter]:
        """Every dead letter, oldest first."""
        ...

    def rearm_send(self, outbox_id: str, at: datetime) -> bool:
        """Make a dead-lettered reply sendable again (status retrying, out of its session's
        reply order) before its replay task runs; False when it is not dead-lettered."""
        ...

    def mark_replayed(self, letter_id: str, task_name: str, at: datetime) -> DeadLetter | None:
        """Status replayed, with the time and the replay task's name (kept, not deleted)."""
        ...


class CallNotes(Protocol):
    def note_call(self, outbox_id: str, call: CallOutcome, error: str, at: datetime) -> None:
        """Note on the outbox record alone what its last provider call did, when recording
        the whole outcome failed: a plain field update, which no session write contends."""
        ...


# -- the webhook edge's provider connector ---------------------------------------------------
if TYPE_CHECKING:
    from atende.domain.events import InboundEvent


@dataclass(frozen=True)
class WebhookResponse:
    """What the webhook answers the provider: a value the connector returns, like
    `ProviderCall` for the provider API, so it lives with its port."""

    status: int
    body: str = ""
    media_type: str = "text/plain"
    #: Extra headers (WebSub asks for `X-Content-Type-Options: nosniff` on the echo).
    headers: Mapping[str, str] | None = None


class WebhookConnector(Protocol):
    """One channel's webhook, as the edge (webhook/edge.py) drives it; each channel's
    `wiring.PLUGIN.connector` builds one."""

    channel: str

    def handshake(self, query: Mapping[str, str]) -> str | WebhookResponse:
        """Answer the provider's subscription check (GET): a string is a 200 text answer.
        Raise SignatureError if refused, ConfigurationError if a secret is missing."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Pure check of the raw body's signature (and timestamp, where the provider signs
        one); raise SignatureError or ConfigurationError."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        """Typed events of a verified delivery; raise MalformedPayloadError if it is not one.
        An empty list is a delivery with nothing to process (a ping)."""
        ...

    def acknowledge(self, body: bytes, events: list[InboundEvent]) -> WebhookResponse:
        """The answer once every event is enqueued (usually `channels.base.ACCEPTED`)."""
        ...

    def tenant_for(self, event: InboundEvent) -> str | None:
        """The tenant an event belongs to, from configuration only; None if unknown."""
        ...
