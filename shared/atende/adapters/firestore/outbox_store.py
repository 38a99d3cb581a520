"""Outbound side of Firestore: claim a record for sending, record its outcome, keep the
session's reply order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from atende.adapters.firestore import codec
from atende.adapters.firestore.client import run_transaction
from atende.domain.audit import AuditEntry
from atende.domain.outbox import CallOutcome, OutboxRecord
from atende.domain.session import Session
from atende.errors import PermanentError
from atende.ports import Clock, FinishedSend, SendGate


class FirestoreOutboxStore:
    def __init__(self, client: Any, clock: Clock) -> None:
        self._db = client
        self._clock = clock

    def _ref(self, collection: str, key: str) -> Any:
        return self._db.collection(collection).document(key)

    def _save(self, transaction: Any, snapshot: Any, document: dict[str, Any]) -> None:
        option = self._db.write_option(last_update_time=snapshot.update_time)
        transaction.update(snapshot.reference, document, option=option)

    def _release(self, transaction: Any, session_snap: Any, outbox_id: str) -> Session | None:
        """Take the record out of the session's reply order; the session as saved."""
        if not session_snap.exists:
            return None
        session = Session.model_validate(session_snap.to_dict())
        if all(item.outbox_id != outbox_id for item in session.outbound_pending):
            return session
        released = session.without_pending(outbox_id).next_version(self._clock.now())
        self._save(transaction, session_snap, codec.to_document(released))
        return released

    def _audit(self, transaction: Any, entries: tuple[AuditEntry, ...]) -> None:
        codec.write_audit(self._db, transaction, entries)

    def get(self, outbox_id: str) -> OutboxRecord | None:
        snapshot = self._ref(codec.OUTBOX, outbox_id).get()
        return OutboxRecord.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def begin_send(
        self,
        outbox_id: str,
        decide: Callable[[OutboxRecord | None, Session | None], SendGate],
    ) -> SendGate:
        def body(transaction: Any) -> SendGate:
            record_snap = self._ref(codec.OUTBOX, outbox_id).get(transaction=transaction)
            if not record_snap.exists:
                return decide(None, None)
            record = OutboxRecord.model_validate(record_snap.to_dict())
            session_snap = self._ref(codec.SESSIONS, record.session_id).get(transaction=transaction)
            session = (
                Session.model_validate(session_snap.to_dict()) if session_snap.exists else None
            )
            gate = decide(record, session)
            if gate.action in ("send", "hold", "suppress") and gate.record is not None:
                self._save(transaction, record_snap, codec.to_document(gate.record))
            if gate.action in ("hold", "suppress") or record.settled:
                # Settled elsewhere too (a status webhook confirming a send we could not
                # record): later replies of the session must not wait for it.
                session = self._release(transaction, session_snap, outbox_id)
            self._audit(transaction, gate.audit)
            return replace(gate, pending=session.outbound_pending if session else ())

        gate: SendGate = run_transaction(self._db, body)
        return gate

    def finish_send(
        self,
        outbox_id: str,
        apply: Callable[[OutboxRecord], OutboxRecord],
        *,
        release: bool,
        audit: tuple[AuditEntry, ...],
    ) -> FinishedSend:
        def body(transaction: Any) -> FinishedSend:
            record_snap = self._ref(codec.OUTBOX, outbox_id).get(transaction=transaction)
            if not record_snap.exists:
                raise PermanentError("outbox record vanished", code="outbox_missing")
            record = OutboxRecord.model_validate(record_snap.to_dict())
            session_snap = self._ref(codec.SESSIONS, record.session_id).get(transaction=transaction)
            updated = apply(record)
            self._save(transaction, record_snap, codec.to_document(updated))
            if release:
                session = self._release(transaction, session_snap, outbox_id)
            elif session_snap.exists:
                session = Session.model_validate(session_snap.to_dict())
            else:
                session = None
            self._audit(transaction, audit)
            return FinishedSend(updated, session.outbound_pending if session else ())

        finished: FinishedSend = run_transaction(self._db, body)
        return finished

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
