"""The outbox outside a unit of work: reads, and the send's writes that need no read (an
update-time precondition instead: the record is exactly as the task last saw it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atende.adapters.firestore import codec
from atende.adapters.firestore.client import is_transient
from atende.domain.audit import AuditEntry
from atende.domain.outbox import CallOutcome, OutboxRecord
from atende.domain.session import Session
from atende.errors import TransientError
from atende.ports import Clock


class FirestoreOutboxStore:
    def __init__(self, client: Any, clock: Clock) -> None:
        self._db = client
        self._clock = clock

    def _ref(self, collection: str, key: str) -> Any:
        return self._db.collection(collection).document(key)

    def get(self, outbox_id: str) -> OutboxRecord | None:
        snapshot = self._ref(codec.OUTBOX, outbox_id).get()
        return OutboxRecord.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def put_if_unchanged(
        self, record: OutboxRecord, since: datetime, audit: tuple[AuditEntry, ...] = ()
    ) -> datetime | None:
        """One commit, no read: the update-time precondition is the version check."""
        from google.api_core.exceptions import FailedPrecondition, NotFound

        batch = self._db.batch()
        option = self._db.write_option(last_update_time=since)
        batch.update(self._ref(codec.OUTBOX, record.id), codec.to_document(record), option=option)
        codec.write_audit(self._db, batch, audit)
        try:
            results = batch.commit()
        except (FailedPrecondition, NotFound):
            return None
        except Exception as error:
            if is_transient(error):
                raise TransientError("firestore unavailable", code="firestore") from error
            raise
        update_time: datetime = results[0].update_time
        return update_time

    def note_call(self, outbox_id: str, call: CallOutcome, error: str, at: datetime) -> None:
        """A field update of the record alone, no read and no session: what a failed send
        did at the provider, when its whole outcome could not be recorded."""
        from google.cloud import firestore

        self._ref(codec.OUTBOX, outbox_id).update(
            {
                "last_call": call.value,
                "last_error": error,
                "updated_at": at,
                "version": firestore.Increment(1),
            }
        )

    def for_session(self, session_id: str) -> list[OutboxRecord]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self._db.collection(codec.OUTBOX).where(
            filter=FieldFilter("session_id", "==", session_id)
        )
        records = [OutboxRecord.model_validate(snap.to_dict()) for snap in query.stream()]
        return sorted(records, key=lambda record: record.order_key)


class FirestoreSessionReader:
    """Reads a session outside a transaction; one past its `expire_at` is absent (TTL
    deletion can lag a day), as for the stores that write sessions."""

    def __init__(self, client: Any, clock: Clock | None = None) -> None:
        self._db = client
        self._clock = clock

    def get(self, session_id: str) -> Session | None:
        snapshot = self._db.collection(codec.SESSIONS).document(session_id).get()
        if not snapshot.exists:
            return None
        session = Session.model_validate(snapshot.to_dict())
        if self._clock is not None and session.expired(self._clock.now()):
            return None
        return session
