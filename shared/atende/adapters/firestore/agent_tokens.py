"""Agent API tokens in Firestore: `agent_tokens/{sha256 hex of the token}`.

Fields: `tenants` (the tenant ids the token may act for), `label` (the operator's name for
it, such as `crm-prod`), `created_at`, `revoked_at` (null until revoked). The token itself
is never stored: `create` returns it once, for `atende agent token create` to print.
Written by the CLI (and, for the `.env` token, by the dev stack); read by `agent_reply`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from atende.adapters.agent_auth import new_token, token_hash
from atende.errors import TransientError
from atende.ports import Clock

AGENT_TOKENS: Final = "agent_tokens"
#: The shortest hash prefix `revoke` accepts: shorter ones match by accident.
MIN_PREFIX: Final = 6

_TenantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
_HEX_PREFIX = re.compile(r"[0-9a-f]{1,64}")


class AgentTokenRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The document id; not a field of the document.
    token_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    tenants: tuple[_TenantId, ...] = Field(min_length=1, max_length=100)
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    created_at: datetime
    revoked_at: datetime | None = None


class TokenNotFoundError(LookupError):
    """No token, or more than one, matches a hash prefix; the message says which."""


class FirestoreAgentTokens:
    def __init__(self, client: Any, clock: Clock) -> None:
        self._db = client
        self._clock = clock

    def _collection(self) -> Any:
        return self._db.collection(AGENT_TOKENS)

    @staticmethod
    def _record(token_id: str, data: dict[str, Any]) -> AgentTokenRecord:
        return AgentTokenRecord.model_validate({**data, "token_hash": token_id})

    @staticmethod
    def _document(record: AgentTokenRecord) -> dict[str, Any]:
        return record.model_dump(mode="python", exclude={"token_hash"}) | {
            "tenants": list(record.tenants)
        }

    def find(self, digest: str) -> AgentTokenRecord | None:
        """The token stored under this hash, revoked or not; None when there is none."""
        from google.api_core.exceptions import GoogleAPICallError

        try:
            snapshot = self._collection().document(digest).get()
        except GoogleAPICallError as error:
            raise TransientError("agent tokens unreachable", code="store_unavailable") from error
        data = snapshot.to_dict() if snapshot.exists else None
        return None if data is None else self._record(snapshot.id, data)

    def create(self, tenants: Iterable[str], label: str = "") -> tuple[str, AgentTokenRecord]:
        """A new token for these tenants: returns the token (its only copy) and the record."""
        token = new_token()
        record = AgentTokenRecord(
            token_hash=token_hash(token),
            tenants=tuple(sorted(set(tenants))),
            label=label,
            created_at=self._clock.now(),
        )
        self._collection().document(record.token_hash).create(self._document(record))
        return token, record

    def register(self, token: str, tenants: Iterable[str], label: str) -> AgentTokenRecord:
        """Store a token whose value is already known (the dev stack's `.env` token): valid
        for exactly these tenants and not revoked; keeps its first `created_at`."""
        digest = token_hash(token)
        existing = self.find(digest)
        record = AgentTokenRecord(
            token_hash=digest,
            tenants=tuple(sorted(set(tenants))),
            label=label,
            created_at=existing.created_at if existing else self._clock.now(),
        )
        self._collection().document(digest).set(self._document(record))
        return record

    def all(self) -> list[AgentTokenRecord]:
        """Every token, revoked ones included, oldest first."""
        records = [self._record(s.id, s.to_dict()) for s in self._collection().stream()]
        return sorted(records, key=lambda record: (record.created_at, record.token_hash))

    def revoke(self, hash_prefix: str) -> AgentTokenRecord:
        """Revoke the one token whose hash starts with `hash_prefix` (revoking twice keeps
        the first time). Raises TokenNotFoundError for no match, several, or a short prefix."""
        prefix = hash_prefix.strip().lower()
        if len(prefix) < MIN_PREFIX or not _HEX_PREFIX.fullmatch(prefix):
            raise TokenNotFoundError(
                f"give at least {MIN_PREFIX} hex characters of the token's hash "
                "(as `atende agent token list` shows them)"
            )
        matches = [record for record in self.all() if record.token_hash.startswith(prefix)]
        if not matches:
            raise TokenNotFoundError(f"no agent token's hash starts with {prefix}")
        if len(matches) > 1:
            raise TokenNotFoundError(
                f"{len(matches)} agent tokens' hashes start with {prefix}: give more characters"
            )
        [record] = matches
        if record.revoked_at is not None:
            return record
        revoked = record.model_copy(update={"revoked_at": self._clock.now()})
        self._collection().document(record.token_hash).update({"revoked_at": revoked.revoked_at})
        return revoked


def register_dev_token(
    db: Any, token: str, tenants: Sequence[str], label: str = "dev (.env)"
) -> AgentTokenRecord:
    """For the local stack: make `token` (the `.env`'s ATENDE_AGENT_API_TOKEN) a valid agent
    token for `tenants` in the Firestore behind `db`. Idempotent."""
    from atende.adapters.clock import SystemClock

    return FirestoreAgentTokens(db, SystemClock()).register(token, tenants, label)
