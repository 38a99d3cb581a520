"""Who may act as an agent: a CRM holding an agent API token, which names its tenants.

Tokens live in Firestore only as their SHA-256 (`agent_tokens/{hash}`, see
`adapters/firestore/agent_tokens.py`); the caller's token is hashed and looked up by that
hash. A missing, unknown or revoked token is refused (401); which tenants a known token may
act for is the caller's business (`AgentCaller.may_act_for`, 403 at the entry point).

The token is always in `Authorization: Bearer <token>`. When `agent_reply` is private
(Cloud Run IAM), the CRM's Google ID token travels in `X-Serverless-Authorization`: Cloud Run
checks that header, removes the token's signature, and leaves `Authorization` to us. This
module never reads `X-Serverless-Authorization`: IAM is Cloud Run's job, and nothing here
may trust a header a public caller can forge.

Each instance keeps what it looked up for `ttl_seconds` (30 s by default): a call costs no
Firestore read, and a revoked token stops working on every instance within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final, Protocol

from atende.adapters.task_auth import REMOVED_SIGNATURE, header_value
from atende.errors import UnauthorizedCallerError
from atende.ports import AgentCaller

#: The environment variable (or `.env` entry) the `atende agent` CLI sends as its token, and
#: the token `make dev` registers for its tenants. No function reads it.
AGENT_API_TOKEN = "ATENDE_AGENT_API_TOKEN"  # noqa: S105 - a variable's name
#: New tokens start with this, so a leaked one is recognisable (and secret scanners can
#: match it); 32 random bytes follow.
TOKEN_PREFIX: Final = "atk_"  # noqa: S105 - a prefix, not a secret
#: How long an instance trusts what it looked up, so also how late a revocation bites.
CACHE_SECONDS: Final = 30.0
#: Characters of the hash that name a token in logs and in `atende agent token list`.
REF_LENGTH: Final = 12
_MAX_TOKEN_LENGTH: Final = 512
_MAX_CACHED: Final = 1024


def new_token() -> str:
    """A new agent API token: 256 bits from the OS's CSPRNG."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest a token is stored and looked up under.

    A plain, unsalted, fast hash is right for these tokens (unlike passwords): they are
    random with 256 bits of entropy, so a stolen hash cannot be reversed by guessing, and
    salting or stretching would only make the per-request lookup by hash impossible."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_ref(digest: str) -> str:
    """How logs and the CLI name a token: a prefix of its hash, never the token."""
    return digest[:REF_LENGTH]


class StoredToken(Protocol):
    """What the token store answers for a hash (`AgentTokenRecord` in Firestore)."""

    @property
    def token_hash(self) -> str: ...

    @property
    def tenants(self) -> tuple[str, ...]: ...

    @property
    def revoked_at(self) -> datetime | None: ...


def _refused(code: str, detail: str) -> UnauthorizedCallerError:
    return UnauthorizedCallerError(detail, code=code)


def _looks_like_id_token(value: str) -> bool:
    # A JWT: three base64url segments, the header starting with '{"' ("eyJ"). Our tokens
    # have no dots. Cloud Run puts REMOVED_SIGNATURE in place of a token's signature after it
    # verified one that came in Authorization.
    return value.endswith("." + REMOVED_SIGNATURE) or (
        value.startswith("eyJ") and value.count(".") == 2
    )


class AgentTokenAuthenticator:
    """Accepts `Authorization: Bearer <token>` for a known, unrevoked token."""

    def __init__(
        self,
        find: Callable[[str], StoredToken | None],
        ttl_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._find = find
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, StoredToken | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, headers: Mapping[str, str]) -> AgentCaller:
        scheme, _, given = (header_value(headers, "authorization") or "").strip().partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            raise _refused("missing_token", "send the agent API token as Authorization: Bearer")
        if _looks_like_id_token(given):
            raise _refused(
                "id_token_in_authorization",
                "Authorization holds a Google ID token: send the ID token in "
                "X-Serverless-Authorization and the agent API token in Authorization",
            )
        if len(given) > _MAX_TOKEN_LENGTH:
            raise _refused("unknown_token", "unknown agent API token")
        digest = token_hash(given)
        stored = self._lookup(digest)
        # The look-up is by hash, so timing reveals nothing about a token; the comparison of
        # the answer with the hash asked for is constant-time all the same.
        if stored is None or not hmac.compare_digest(stored.token_hash, digest):
            raise _refused("unknown_token", "unknown agent API token")
        if stored.revoked_at is not None:
            raise _refused("revoked_token", "this agent API token was revoked")
        return AgentCaller(tenants=frozenset(stored.tenants), token_ref=token_ref(digest))

    def _lookup(self, digest: str) -> StoredToken | None:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        stored = self._find(digest)  # TransientError when the store cannot be read
        with self._lock:
            if len(self._cache) >= _MAX_CACHED:
                # Unknown tokens are cached too (a flood of them costs one read each per
                # period); bounded, so a flood cannot grow memory either.
                self._cache = {
                    key: item for key, item in self._cache.items() if now - item[0] < self._ttl
                }
                while len(self._cache) >= _MAX_CACHED:
                    del self._cache[next(iter(self._cache))]
            self._cache[digest] = (now, stored)
        return stored
