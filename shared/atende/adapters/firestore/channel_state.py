"""Channel state in Firestore: `channel_state/{hash of key}` holding the key and its value."""

from __future__ import annotations

from typing import Any

from atende.adapters.firestore import codec
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

    def get(self, key: str) -> dict[str, Any] | None:
        snapshot = self._collection().document(_document_id(key)).get()
        if not snapshot.exists:
            return None
        value: dict[str, Any] = snapshot.get("value")
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        document = {"key": key, "value": value, "updated_at": self._clock.now()}
        self._collection().document(_document_id(key)).set(document)

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = (
            self._collection()
            .where(filter=FieldFilter("key", ">=", prefix))
            .where(filter=FieldFilter("key", "<", prefix + "\uf8ff"))
        )
        return {snap.get("key"): snap.get("value") for snap in query.stream()}
