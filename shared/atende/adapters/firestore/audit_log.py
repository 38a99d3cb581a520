"""Standalone audit entries (most entries commit inside the transaction they explain)."""

from __future__ import annotations

from typing import Any

from atende.adapters.firestore import codec
from atende.domain.audit import AuditEntry


class FirestoreAuditLog:
    def __init__(self, client: Any) -> None:
        self._db = client

    def append(self, entry: AuditEntry) -> None:
        ref = self._db.collection(codec.AUDIT).document(codec.audit_document_id())
        ref.set(codec.audit_document((entry,)))
