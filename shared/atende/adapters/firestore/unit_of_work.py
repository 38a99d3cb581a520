"""The unit of work the use cases drive on Firestore: one transaction with typed
repositories (sessions, outbox, dedupe, handoffs), its audit entries written as one document,
and its commit time returned (the update time of every document it wrote).

Every session write is kept within `atende.domain.bounds`: the session is bounded, stamped
with its `expire_at` (this write + the tenant's retention) and measured the way Firestore
counts a document; one that still weighs more than `SESSION_BUDGET` sheds its oldest
history messages (they stay in the outbox and the audit trail). A session past its
`expire_at` is read as absent: the conversation starts fresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from atende.adapters.firestore import codec, doc_size
from atende.adapters.firestore.client import run_transaction_at
from atende.domain import bounds
from atende.domain.audit import AuditEntry
from atende.domain.comment import CommentRecord
from atende.domain.dedupe import DedupeRecord
from atende.domain.handoff import HandoffRecord
from atende.domain.outbox import OutboxRecord
from atende.domain.session import Session
from atende.errors import TransientError
from atende.ports import Checkpoints, Clock, Committed, ResultT, UnitOfWork

logger = logging.getLogger(__name__)

#: A concurrent first message can race us to create the same session; we then start over.
_CREATE_RACE_ATTEMPTS = 3


class SessionUnwritableError(TransientError):
    """Firestore refused a write of the session (or of a record written with it) as
    INVALID_ARGUMENT: too big, or a value it cannot store.

    Transient on purpose, although retrying the same write fails the same way: the worker
    turns a TransientError on the task's last attempt into a dead letter, which keeps the
    event for an operator to replay once the cause is fixed. A PermanentError would be
    recorded and acknowledged, and the contact's message would be gone. The queue's bounded
    retries mean this never loops forever; the bounds (`atende.domain.bounds`) mean it
    should never happen at all."""

    code = "session_unwritable"


def _tenant_retention(client: Any) -> Callable[[str], timedelta]:
    from atende.adapters.firestore.tenant_store import FirestoreTenantStore

    tenants = FirestoreTenantStore(client)
    return lambda tenant_id: tenants.get(tenant_id).session_retention


class FirestoreUnitsOfWork:
    def __init__(
        self,
        client: Any,
        clock: Clock,
        checkpoints: Checkpoints,
        retention: Callable[[str], timedelta] | None = None,
    ) -> None:
        """`retention`: a tenant's session retention (`TenantConfig.session_retention`);
        by default read from the tenant's configuration (cached 60 s)."""
        self._db = client
        self._clock = clock
        self._checkpoints = checkpoints
        self._retention = retention or _tenant_retention(client)

    # -- helpers -------------------------------------------------------------------------
    def _ref(self, collection: str, key: str) -> Any:
        return self._db.collection(collection).document(key)

    def _run(self, body: Callable[[Any], Any]) -> Any:
        from google.api_core.exceptions import AlreadyExists, InvalidArgument

        for attempt in range(_CREATE_RACE_ATTEMPTS):
            try:
                return run_transaction_at(self._db, body)
            except AlreadyExists:
                if attempt == _CREATE_RACE_ATTEMPTS - 1:
                    raise TransientError("kept losing a create race", code="conflict") from None
            except InvalidArgument as error:
                raise SessionUnwritableError("firestore refused the write") from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _snapshots(self, transaction: Any, refs: list[Any]) -> dict[str, Any]:
        return {
            snap.reference.path: snap for snap in self._db.get_all(refs, transaction=transaction)
        }

    def _is_duplicate(self, snapshot: Any, now: datetime) -> DedupeRecord | None:
        if not snapshot.exists:
            return None
        record = codec.from_document(DedupeRecord, snapshot.to_dict())
        return None if record is None or record.expired(now) else record

    def _write_audit(self, transaction: Any, entries: tuple[AuditEntry, ...]) -> None:
        codec.write_audit(self._db, transaction, entries)

    def _load(self, snapshot: Any) -> Session | None:
        """The stored session; None when there is none or it is past its `expire_at`
        (TTL deletion can lag a day or more behind it)."""
        if not snapshot.exists:
            return None
        session = Session.model_validate(snapshot.to_dict())
        return None if session.expired(self._clock.now()) else session

    def _fitted(self, session: Session) -> tuple[Session, dict[str, Any]]:
        """The session within its bounds and its document within `SESSION_BUDGET`."""
        session = session.bounded()
        while True:
            document = codec.to_document(session)
            size = doc_size.document_size(codec.SESSIONS, session.id, document)
            if size <= bounds.SESSION_BUDGET:
                return session, document
            if not session.messages:
                # Only ids and provider contexts are left to blame: nothing to shed.
                logger.error(
                    "session document over budget with an empty history",
                    extra={
                        "json_fields": {
                            "session_id": session.id,
                            "tenant_id": session.tenant_id,
                            "channel": session.channel,
                            "size": size,
                            "outcome": "session_unwritable",
                        }
                    },
                )
                raise SessionUnwritableError("session document over its budget")
            session = session.model_copy(update={"messages": session.messages[1:]})

    def _save_session(
        self, transaction: Any, snapshot: Any, session: Session, before: Session | None
    ) -> Session:
        """Write the session (bounded, stamped, measured); the session as saved."""
        now = self._clock.now()
        session, document = self._fitted(session.retained(now, self._retention(session.tenant_id)))
        _log_overflow(before, session)
        if snapshot.exists:
            _update_checked(self._db, transaction, snapshot, document)
        else:
            transaction.create(snapshot.reference, document)
        return session

    # -- UnitsOfWork ---------------------------------------------------------------------
    def run(self, work: Callable[[UnitOfWork], ResultT]) -> Committed[ResultT]:
        def body(transaction: Any) -> ResultT:
            uow = _FirestoreUnitOfWork(self, transaction)
            result = work(uow)
            uow.flush()
            return result

        result, at = self._run(body)
        return Committed(result, at)


class _Sessions:
    """Sessions within one unit of work: each save is checked against this unit's read."""

    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any) -> None:
        self._store = store
        self._transaction = transaction
        self._read: dict[str, tuple[Any, Session | None]] = {}

    def get(self, session_id: str) -> Session | None:
        ref = self._store._ref(codec.SESSIONS, session_id)
        snapshot = ref.get(transaction=self._transaction)
        session = self._store._load(snapshot)
        self._read[session_id] = (snapshot, session)
        return session

    def save(self, session: Session) -> Session:
        if session.id not in self._read:
            raise AssertionError("a session is read before it is saved")  # pragma: no cover
        snapshot, before = self._read[session.id]
        return self._store._save_session(self._transaction, snapshot, session, before)


def _update_checked(db: Any, transaction: Any, snapshot: Any, document: dict[str, Any]) -> None:
    """The version check: written only if the document is still the one this unit of work
    read (its update time)."""
    option = db.write_option(last_update_time=snapshot.update_time)
    transaction.update(snapshot.reference, document, option=option)


class _ReadThenSave:
    """Documents of one collection read in the unit of work, each saved against that read."""

    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any, collection: str) -> None:
        self._store = store
        self._transaction = transaction
        self._collection = collection
        self._read: dict[str, Any] = {}

    def _get(self, key: str) -> dict[str, Any] | None:
        snapshot = self._store._ref(self._collection, key).get(transaction=self._transaction)
        self._read[key] = snapshot
        data: dict[str, Any] | None = snapshot.to_dict() if snapshot.exists else None
        return data

    def _save(self, key: str, document: dict[str, Any]) -> None:
        snapshot = self._read.get(key)
        if snapshot is None or not snapshot.exists:
            raise AssertionError(
                f"{self._collection}/{key} is saved without being read"
            )  # pragma: no cover
        _update_checked(self._store._db, self._transaction, snapshot, document)


class _Outbox(_ReadThenSave):
    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any) -> None:
        super().__init__(store, transaction, codec.OUTBOX)

    def get(self, outbox_id: str) -> OutboxRecord | None:
        data = self._get(outbox_id)
        return None if data is None else OutboxRecord.model_validate(data)

    def add(self, record: OutboxRecord) -> None:
        ref = self._store._ref(codec.OUTBOX, record.id)
        self._transaction.create(ref, codec.to_document(record))

    def by_provider_message_id(self, channel: str, provider_message_id: str) -> OutboxRecord | None:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = (
            self._store._db.collection(codec.OUTBOX)
            .where(filter=FieldFilter("provider_message_id", "==", provider_message_id))
            .limit(1)
        )
        for snapshot in self._transaction.get(query):
            record = OutboxRecord.model_validate(snapshot.to_dict())
            if record.channel == channel:
                self._read[record.id] = snapshot
                return record
        return None

    def save(self, record: OutboxRecord) -> None:
        self._save(record.id, codec.to_document(record))


class _Comments(_ReadThenSave):
    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any) -> None:
        super().__init__(store, transaction, codec.COMMENTS)

    def get(self, comment_id: str) -> CommentRecord | None:
        data = self._get(comment_id)
        return None if data is None else CommentRecord.model_validate(data)

    def save(self, comment: CommentRecord) -> None:
        self._save(comment.id, codec.to_document(comment))

    def put(self, comment: CommentRecord) -> None:
        ref = self._store._ref(codec.COMMENTS, comment.id)
        self._transaction.set(ref, codec.to_document(comment))


class _Dedupe:
    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any) -> None:
        self._store = store
        self._transaction = transaction

    def seen(self, key: str) -> bool:
        snapshot = self._store._ref(codec.DEDUPE, key).get(transaction=self._transaction)
        return self._store._is_duplicate(snapshot, self._store._clock.now()) is not None

    def add(self, key: str, record: DedupeRecord) -> None:
        ref = self._store._ref(codec.DEDUPE, key)
        self._transaction.set(ref, codec.to_document(record))


class _Handoffs:
    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any) -> None:
        self._store = store
        self._transaction = transaction

    def save(self, record: HandoffRecord) -> None:
        ref = self._store._ref(codec.HANDOFFS, record.session_id)
        self._transaction.set(ref, codec.to_document(record))


class _FirestoreUnitOfWork:
    """One Firestore transaction with typed repositories; its audit entries become one
    document, written when the work is done."""

    def __init__(self, store: FirestoreUnitsOfWork, transaction: Any) -> None:
        self._store = store
        self._transaction = transaction
        self._sessions = _Sessions(store, transaction)
        self._outbox = _Outbox(store, transaction)
        self._handoffs = _Handoffs(store, transaction)
        self._dedupe = _Dedupe(store, transaction)
        self._comments = _Comments(store, transaction)
        self._audit: list[AuditEntry] = []

    @property
    def sessions(self) -> _Sessions:
        return self._sessions

    @property
    def outbox(self) -> _Outbox:
        return self._outbox

    @property
    def handoffs(self) -> _Handoffs:
        return self._handoffs

    @property
    def dedupe(self) -> _Dedupe:
        return self._dedupe

    @property
    def comments(self) -> _Comments:
        return self._comments

    def audit(self, entries: tuple[AuditEntry, ...]) -> None:
        self._audit.extend(entries)

    def checkpoint(self, name: str) -> None:
        self._store._checkpoints.reached(name)

    def flush(self) -> None:
        self._store._write_audit(self._transaction, tuple(self._audit))


def _log_overflow(before: Session | None, after: Session) -> None:
    """One line when a write pushed messages out of the inbox (counts only: no text, no
    contact)."""
    previous = before.overflow if before is not None else None
    folded = after.overflow.inbox_folded - (previous.inbox_folded if previous else 0)
    if folded <= 0:
        return
    logger.warning(
        "session bounds reached: oldest inbox messages folded into the history unanswered",
        extra={
            "json_fields": {
                "session_id": after.id,
                "tenant_id": after.tenant_id,
                "channel": after.channel,
                "inbox_folded": folded,
                "handoff": after.handoff is not None,
                "outcome": "session_overflow",
            }
        },
    )
