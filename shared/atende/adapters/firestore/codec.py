"""Model <-> Firestore document conversion, and the collection names in one place."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from atende.domain.audit import AuditEntry

SESSIONS = "sessions"
DEDUPE = "dedupe"
OUTBOX = "outbox"
AUDIT = "audit"
HANDOFFS = "handoffs"
TENANTS = "tenants"
CHANNEL_STATE = "channel_state"
COMMENTS = "comments"

#: The timestamp field the TTL policies delete by (infra/firestore.tf), in every collection
#: that expires; readers check it themselves (TTL deletion lags).
EXPIRE_AT = "expire_at"
DEAD_LETTERS = "dead_letters"

ModelT = TypeVar("ModelT", bound=BaseModel)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def to_document(model: BaseModel, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """Datetimes stay datetimes (Firestore timestamps, which TTL policies need)."""
    document: dict[str, Any] = _plain(model.model_dump(mode="python", exclude=exclude))
    return document


def from_document(model: type[ModelT], data: dict[str, Any] | None) -> ModelT | None:
    return None if data is None else model.model_validate(data)


def audit_document_id() -> str:
    """Audit entries only store, they never dedupe: a random id spreads writes."""
    return uuid.uuid4().hex


def audit_document(entries: tuple[AuditEntry, ...]) -> dict[str, Any]:
    """One document for the entries one commit writes (a turn's notes, a send's outcome):
    one write per commit, not one per entry. Queried by `kinds` (`array-contains`),
    `tenant_id`, `session_id` and `at` (the first entry's time); `entries` holds each entry
    whole, in order."""
    first = entries[0]
    return {
        "at": first.at,
        "tenant_id": first.tenant_id,
        "session_id": first.session_id,
        "channel": first.channel,
        "kinds": sorted({entry.kind.value for entry in entries}),
        "entries": [to_document(entry) for entry in entries],
    }


def write_audit(db: Any, writer: Any, entries: tuple[AuditEntry, ...]) -> None:
    """Add the entries of one commit to `writer` (a transaction or a batch) as one
    document; nothing when there are none."""
    if entries:
        ref = db.collection(AUDIT).document(audit_document_id())
        writer.set(ref, audit_document(entries))
