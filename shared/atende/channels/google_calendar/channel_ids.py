"""Our watch channels' ids and tokens: stateless proof that a notice is for a channel we made.

A channel id is `atende-<tenant label>-<calendar hash>-<generation>`: the hash binds the
configured (tenant, calendar id) pair, the generation (creation time in seconds) makes every
renewal a new id, as Google requires. Its token is hex HMAC-SHA256(channel secret, channel
id), so a notice whose token matches was for a channel only the secret's holder could name:
the webhook checks it without reading any stored channel (Google may even deliver the first
notice before the watch call returns). Ids carry no personal data: a calendar id is often an
e-mail address, so it appears only hashed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from atende.domain.keys import stable_hash

PREFIX = "atende"
#: Google's limit for a channel id.
MAX_CHANNEL_ID = 64
_LABEL_MAX = 20
_HASH_HEX = 16
_GENERATION_MAX_DIGITS = 19
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_CHANNEL_ID = re.compile(
    rf"{PREFIX}-([A-Za-z0-9_]{{1,{_LABEL_MAX}}})-([0-9a-f]{{{_HASH_HEX}}})"
    rf"-([0-9]{{1,{_GENERATION_MAX_DIGITS}}})"
)


def tenant_label(tenant_id: str) -> str:
    """The tenant as it may appear in a channel id (for people reading Google's console)."""
    return _LABEL_UNSAFE.sub("_", tenant_id)[:_LABEL_MAX] or "_"


def calendar_hash(tenant_id: str, calendar_id: str) -> str:
    return stable_hash("google_calendar", tenant_id, calendar_id)[:_HASH_HEX]


def channel_prefix(tenant_id: str, calendar_id: str) -> str:
    """What every channel id of this (tenant, calendar) starts with."""
    return f"{PREFIX}-{tenant_label(tenant_id)}-{calendar_hash(tenant_id, calendar_id)}-"


def channel_id(tenant_id: str, calendar_id: str, generation: int) -> str:
    if not 0 <= generation < 10**_GENERATION_MAX_DIGITS:
        raise ValueError("generation out of range")
    return f"{channel_prefix(tenant_id, calendar_id)}{generation}"


def channel_token(secret: str, channel: str) -> str:
    """The token Google echoes in X-Goog-Channel-Token for `channel`."""
    return hmac.new(secret.encode("utf-8"), channel.encode("utf-8"), hashlib.sha256).hexdigest()


def calendar_ref(calendar_id: str) -> str:
    """How logs name a calendar (its id may be an e-mail address)."""
    return stable_hash("calendar", calendar_id)[:12]


@dataclass(frozen=True)
class WatchedCalendar:
    calendar_id: str
    tenant_id: str


class CalendarIndex:
    """The configured calendars, found by the hash in a channel id."""

    def __init__(self, calendars: Mapping[str, str]) -> None:
        self._by_hash = {
            calendar_hash(tenant, calendar): WatchedCalendar(calendar, tenant)
            for calendar, tenant in calendars.items()
        }

    def resolve(self, channel: str) -> WatchedCalendar | None:
        """The calendar a channel id of ours names; None for any other id."""
        match = _CHANNEL_ID.fullmatch(channel)
        if match is None:
            return None
        found = self._by_hash.get(match.group(2))
        if found is None or tenant_label(found.tenant_id) != match.group(1):
            return None
        return found
