"""Processing's writes that are not yet driven through the unit of work: events that
change no session (statuses, comments, everything else), each deduplicated by its own
`dedupe/{key}` document in the transaction that applies it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atende.adapters.firestore import codec
from atende.adapters.firestore.unit_of_work import FirestoreUnitsOfWork
from atende.domain.audit import AuditEntry
from atende.domain.comment import CommentRecord
from atende.domain.dedupe import DedupeRecord
from atende.domain.events import StatusEvent
from atende.domain.outbox import OutboxRecord
from atende.ports import ActOutcome, CommentReply, StatusDecision


class FirestoreInboundStore(FirestoreUnitsOfWork):
    # -- InboundStore --------------------------------------------------------------------
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

        recorded: bool = self._run(body)[0]
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

        result: tuple[ActOutcome, CommentRecord | None] = self._run(body)[0]
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

        applied: bool = self._run(body)[0]
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
