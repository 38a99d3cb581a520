"""Channel state in Firestore: `channel_state/{hash of key}` holding the key and its value.

A value that carries `expire_at` (`atende.domain.expiry`) is stored with a top-level
`expire_at` timestamp, which the TTL policy on `channel_state` deletes (infra/firestore.tf);
until then, reads treat it as absent.
"""

from __future__ import annotations

from typing import Any

from atende.adapters.firestore import codec
from atende.domain import expiry
from atende.domain.keys import stable_hash


def _document_id(key: str) -> str:
    # Keys may hold URLs and slashes, which a document id may not.
    return stable_hash("channel_state", key)[:40]


class FirestoreChannelState:
    def __init__(self, client: Any, clock: Any) -> None:
        self._db = client
        self._clock = clock

    def _collection(self) -> Any:
        return self._db.collection(codec.CHANNEL_STATE)

    def _live(self, document: dict[str, Any] | None) -> dict[str, Any] | None:
        """The stored value, or None when there is none or it is past its `expire_at`."""
        if document is None:
            return None
        stamp = document.get(codec.EXPIRE_AT)
        if stamp is not None and stamp <= self._clock.now():
            return None
        value: dict[str, Any] | None = document.get("value")
        return expiry.live(value, self._clock.now())

    def get(self, key: str) -> dict[str, Any] | None:
        snapshot = self._collection().document(_document_id(key)).get()
        return self._live(snapshot.to_dict() if snapshot.exists else None)

    def put(self, key: str, value: dict[str, Any]) -> None:
        document: dict[str, Any] = {"key": key, "value": value, "updated_at": self._clock.now()}
        expire_at = expiry.expiry(value)
        if expire_at is not None:
            document[codec.EXPIRE_AT] = expire_at
        self._collection().document(_document_id(key)).set(document)

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = (
            self._collection()
            .where(filter=FieldFilter("key", ">=", prefix))
            .where(filter=FieldFilter("key", "<", prefix + "\uf8ff"))
        )
        found: dict[str, dict[str, Any]] = {}
        for snapshot in query.stream():
            value = self._live(snapshot.to_dict())
            if value is not None:
                found[snapshot.get("key")] = value
        return found
