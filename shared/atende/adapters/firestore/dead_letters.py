"""`dead_letters/{id}`: work a task could not finish by its last attempt, kept to be replayed.

A dead letter is created once (its id comes from the queue and task name, so a redelivered
last attempt finds it), with its audit entry in the same transaction. Taking a message that
keeps failing out of its session's inbox and recording it is one transaction too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atende.adapters.firestore import codec
from atende.adapters.firestore.client import run_transaction
from atende.domain.audit import AuditEntry
from atende.domain.dead_letter import DeadLetter
from atende.domain.outbox import OutboxRecord
from atende.domain.session import Session


class FirestoreDeadLetterStore:
    def __init__(self, client: Any) -> None:
        self._db = client

    def _ref(self, collection: str, key: str) -> Any:
        return self._db.collection(collection).document(key)

    def _audit(self, transaction: Any, entries: tuple[AuditEntry, ...]) -> None:
        codec.write_audit(self._db, transaction, entries)

    def record(self, letter: DeadLetter, audit: tuple[AuditEntry, ...] = ()) -> bool:
        ref = self._ref(codec.DEAD_LETTERS, letter.id)

        def body(transaction: Any) -> bool:
            if ref.get(transaction=transaction).exists:
                return False
            transaction.create(ref, codec.to_document(letter))
            self._audit(transaction, audit)
            return True

        created: bool = run_transaction(self._db, body)
        return created

    def quarantine(
        self,
        letter: DeadLetter,
        session_id: str,
        message_id: str,
        audit: tuple[AuditEntry, ...] = (),
    ) -> bool:
        letter_ref = self._ref(codec.DEAD_LETTERS, letter.id)
        session_ref = self._ref(codec.SESSIONS, session_id)

        def body(transaction: Any) -> bool:
            snaps = {
                snap.reference.path: snap
                for snap in self._db.get_all([letter_ref, session_ref], transaction=transaction)
            }
            session_snap = snaps[session_ref.path]
            if not session_snap.exists:
                return False
            session = Session.model_validate(session_snap.to_dict())
            inbox = tuple(p for p in session.inbox if p.event.message_id != message_id)
            if len(inbox) == len(session.inbox):
                return False
            kept = session.quarantined(message_id).next_version(letter.created_at)
            option = self._db.write_option(last_update_time=session_snap.update_time)
            transaction.update(session_ref, codec.to_document(kept), option=option)
            if not snaps[letter_ref.path].exists:
                transaction.create(letter_ref, codec.to_document(letter))
            self._audit(transaction, audit)
            return True

        moved: bool = run_transaction(self._db, body)
        return moved

    def get(self, letter_id: str) -> DeadLetter | None:
        snapshot = self._ref(codec.DEAD_LETTERS, letter_id).get()
        return DeadLetter.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def list_all(self) -> list[DeadLetter]:
        letters = [
            DeadLetter.model_validate(snapshot.to_dict())
            for snapshot in self._db.collection(codec.DEAD_LETTERS).stream()
        ]
        return sorted(letters, key=lambda letter: (letter.created_at, letter.id))

    def rearm_send(self, outbox_id: str, at: datetime) -> bool:
        ref = self._ref(codec.OUTBOX, outbox_id)

        def body(transaction: Any) -> bool:
            snapshot = ref.get(transaction=transaction)
            if not snapshot.exists:
                return False
            again = OutboxRecord.model_validate(snapshot.to_dict()).rearmed(at)
            if again is None:
                return False
            option = self._db.write_option(last_update_time=snapshot.update_time)
            transaction.update(ref, codec.to_document(again), option=option)
            return True

        done: bool = run_transaction(self._db, body)
        return done

    def mark_replayed(self, letter_id: str, task_name: str, at: datetime) -> DeadLetter | None:
        ref = self._ref(codec.DEAD_LETTERS, letter_id)

        def body(transaction: Any) -> DeadLetter | None:
            snapshot = ref.get(transaction=transaction)
            if not snapshot.exists:
                return None
            replayed = DeadLetter.model_validate(snapshot.to_dict()).replayed(task_name, at)
            option = self._db.write_option(last_update_time=snapshot.update_time)
            transaction.update(ref, codec.to_document(replayed), option=option)
            return replayed

        marked: DeadLetter | None = run_transaction(self._db, body)
        return marked
