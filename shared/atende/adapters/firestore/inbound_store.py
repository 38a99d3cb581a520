"""Inbound side of Firestore: dedupe + session + outbox + audit, committed together.

Admitting a message is one transaction; answering a session's inbox is another, which writes
the dedupe records of the messages it answers together with the session, the replies and the
audit: a dedupe record can never outlive a failure of the work it guards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from atende.adapters.firestore import codec
from atende.adapters.firestore.client import run_transaction
from atende.domain.audit import AuditEntry
from atende.domain.comment import CommentRecord
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import StatusEvent
from atende.domain.outbox import OutboxRecord
from atende.domain.session import Session
from atende.errors import TransientError
from atende.ports import (
    ActOutcome,
    Admission,
    Checkpoints,
    Clock,
    CommentReply,
    InboundDecision,
    StatusDecision,
)

#: A concurrent first message can race us to create the same session; we then start over.
_CREATE_RACE_ATTEMPTS = 3


class FirestoreInboundStore:
    def __init__(self, client: Any, clock: Clock, checkpoints: Checkpoints) -> None:
        self._db = client
        self._clock = clock
        self._checkpoints = checkpoints

    # -- helpers -------------------------------------------------------------------------
    def _ref(self, collection: str, key: str) -> Any:
        return self._db.collection(collection).document(key)

    def _run(self, body: Callable[[Any], Any]) -> Any:
        from google.api_core.exceptions import AlreadyExists

        for attempt in range(_CREATE_RACE_ATTEMPTS):
            try:
                return run_transaction(self._db, body)
            except AlreadyExists:
                if attempt == _CREATE_RACE_ATTEMPTS - 1:
                    raise TransientError("kept losing a create race", code="conflict") from None
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
        for entry in entries:
            ref = self._ref(codec.AUDIT, codec.audit_document_id())
            transaction.set(ref, codec.audit_document(entry))

    def _write_handoff(self, transaction: Any, decision: InboundDecision) -> None:
        if decision.handoff is not None:
            ref = self._ref(codec.HANDOFFS, decision.handoff.session_id)
            transaction.set(ref, codec.to_document(decision.handoff))

    def _save_session(self, transaction: Any, snapshot: Any, session: Session) -> None:
        document = codec.to_document(session)
        if snapshot.exists:
            # The version check: the session must still be exactly the one we read.
            option = self._db.write_option(last_update_time=snapshot.update_time)
            transaction.update(snapshot.reference, document, option=option)
        else:
            transaction.create(snapshot.reference, document)

    # -- InboundStore --------------------------------------------------------------------
    def admit(
        self, key: str, session_id: str, admit: Callable[[Session | None], Session | None]
    ) -> Admission:
        dedupe_ref = self._ref(codec.DEDUPE, key)
        session_ref = self._ref(codec.SESSIONS, session_id)

        def body(transaction: Any) -> Admission:
            snaps = self._snapshots(transaction, [dedupe_ref, session_ref])
            if self._is_duplicate(snaps[dedupe_ref.path], self._clock.now()) is not None:
                return "duplicate"
            session_snap = snaps[session_ref.path]
            current = (
                codec.from_document(Session, session_snap.to_dict())
                if session_snap.exists
                else None
            )
            admitted = admit(current)
            if admitted is None:
                return "present"
            self._save_session(transaction, session_snap, admitted)
            self._checkpoints.reached("process.after_admit")
            return "admitted"

        admission: Admission = self._run(body)
        return admission

    def answer(
        self, session_id: str, decide: Callable[[Session], InboundDecision]
    ) -> Session | None:
        session_ref = self._ref(codec.SESSIONS, session_id)

        def body(transaction: Any) -> Session | None:
            snapshot = session_ref.get(transaction=transaction)
            if not snapshot.exists:
                return None
            current = Session.model_validate(snapshot.to_dict())
            decision = decide(current)
            if decision.session == current:
                return current
            for key, record in decision.dedupe:
                transaction.set(self._ref(codec.DEDUPE, key), codec.to_document(record))
            self._checkpoints.reached("process.after_dedupe")
            self._save_session(transaction, snapshot, decision.session)
            self._checkpoints.reached("process.after_session_save")
            for outbox in decision.outbox:
                transaction.create(self._ref(codec.OUTBOX, outbox.id), codec.to_document(outbox))
            self._checkpoints.reached("process.after_outbox_write")
            self._write_audit(transaction, decision.audit)
            self._write_handoff(transaction, decision)
            return decision.session

        answered: Session | None = self._run(body)
        return answered

    def act(
        self,
        key: str,
        dedupe: DedupeRecord,
        session_id: str,
        decide: Callable[[Session], InboundDecision],
    ) -> tuple[ActOutcome, Session | None]:
        dedupe_ref = self._ref(codec.DEDUPE, key)
        session_ref = self._ref(codec.SESSIONS, session_id)

        def body(transaction: Any) -> tuple[ActOutcome, Session | None]:
            snaps = self._snapshots(transaction, [dedupe_ref, session_ref])
            session_snap = snaps[session_ref.path]
            if not session_snap.exists:
                return "no_session", None
            current = Session.model_validate(session_snap.to_dict())
            if self._is_duplicate(snaps[dedupe_ref.path], self._clock.now()) is not None:
                return "duplicate", current
            decision = decide(current)
            transaction.set(dedupe_ref, codec.to_document(dedupe))
            self._save_session(transaction, session_snap, decision.session)
            for outbox in decision.outbox:
                transaction.create(self._ref(codec.OUTBOX, outbox.id), codec.to_document(outbox))
            self._write_audit(transaction, decision.audit)
            self._write_handoff(transaction, decision)
            return "applied", decision.session

        result: tuple[ActOutcome, Session | None] = self._run(body)
        return result

    def record_event(
        self,
        key: str,
        dedupe: DedupeRecord,
        audit: tuple[AuditEntry, ...],
        comment: CommentRecord | None = None,
    ) -> bool:
        dedupe_ref = self._ref(codec.DEDUPE, key)

        def body(transaction: Any) -> bool:
            snapshot = dedupe_ref.get(transaction=transaction)
            if self._is_duplicate(snapshot, self._clock.now()) is not None:
                return False
            transaction.set(dedupe_ref, codec.to_document(dedupe))
            if comment is not None:
                ref = self._ref(codec.COMMENTS, comment.id)
                transaction.set(ref, codec.to_document(comment))
            self._write_audit(transaction, audit)
            return True

        recorded: bool = self._run(body)
        return recorded

    def reply_to_comment(
        self,
        key: str,
        dedupe: DedupeRecord,
        comment_id: str,
        decide: Callable[[CommentRecord], CommentReply],
    ) -> tuple[ActOutcome, CommentRecord | None]:
        dedupe_ref = self._ref(codec.DEDUPE, key)
        comment_ref = self._ref(codec.COMMENTS, comment_id)

        def body(transaction: Any) -> tuple[ActOutcome, CommentRecord | None]:
            snaps = self._snapshots(transaction, [dedupe_ref, comment_ref])
            comment_snap = snaps[comment_ref.path]
            if not comment_snap.exists:
                return "no_session", None
            current = CommentRecord.model_validate(comment_snap.to_dict())
            if self._is_duplicate(snaps[dedupe_ref.path], self._clock.now()) is not None:
                return "duplicate", current
            reply = decide(current)
            transaction.set(dedupe_ref, codec.to_document(dedupe))
            transaction.create(
                self._ref(codec.OUTBOX, reply.outbox.id), codec.to_document(reply.outbox)
            )
            option = self._db.write_option(last_update_time=comment_snap.update_time)
            transaction.update(comment_ref, codec.to_document(reply.comment), option=option)
            self._write_audit(transaction, reply.audit)
            return "applied", reply.comment

        result: tuple[ActOutcome, CommentRecord | None] = self._run(body)
        return result

    def apply_status(
        self,
        key: str,
        dedupe: DedupeRecord,
        event: StatusEvent,
        decide: Callable[[OutboxRecord | None], StatusDecision],
    ) -> bool:
        dedupe_ref = self._ref(codec.DEDUPE, key)

        def body(transaction: Any) -> bool:
            if self._is_duplicate(dedupe_ref.get(transaction=transaction), self._clock.now()):
                return False
            snapshot = self._find_outbox(transaction, event)
            current = OutboxRecord.model_validate(snapshot.to_dict()) if snapshot else None
            decision = decide(current)
            transaction.set(dedupe_ref, codec.to_document(dedupe))
            if snapshot is not None and decision.record is not None and decision.record != current:
                option = self._db.write_option(last_update_time=snapshot.update_time)
                transaction.update(
                    snapshot.reference, codec.to_document(decision.record), option=option
                )
            self._write_audit(transaction, decision.audit)
            return True

        applied: bool = self._run(body)
        return applied

    def _find_outbox(self, transaction: Any, event: StatusEvent) -> Any:
        """By the callback data we attached to the send, else by the provider's message id."""
        if event.callback_data:
            snapshot = self._ref(codec.OUTBOX, event.callback_data).get(transaction=transaction)
            if snapshot.exists and snapshot.get("channel") == event.channel:
                return snapshot
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = (
            self._db.collection(codec.OUTBOX)
            .where(filter=FieldFilter("provider_message_id", "==", event.provider_message_id))
            .limit(1)
        )
        for snapshot in transaction.get(query):
            return snapshot
        return None
