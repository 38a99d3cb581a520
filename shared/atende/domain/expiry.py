"""When a small channel-state value expires: an `expire_at` entry in the value itself.

Channel state (`ChannelStateStore`) holds JSON-like values; one that holds personal data (a
calendar's memory of whom an appointment is for) carries `expire_at`, an ISO 8601
timestamp with its offset. The Firestore store copies it to the document's top-level
`expire_at` for the TTL policy; every reader treats a value past it as absent, because TTL
deletion lags (typically within 24 hours, https://cloud.google.com/firestore/docs/ttl).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

EXPIRE_AT = "expire_at"


def stamped(value: Mapping[str, Any], expire_at: datetime) -> dict[str, Any]:
    """`value` that expires at `expire_at` (an aware datetime)."""
    if expire_at.tzinfo is None:
        raise ValueError("expire_at must carry a time zone")
    return {**value, EXPIRE_AT: expire_at.isoformat()}


def expiry(value: Mapping[str, Any] | None) -> datetime | None:
    """The value's `expire_at`, or None when it has none (it never expires)."""
    raw = value.get(EXPIRE_AT) if value else None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo is not None else None
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def expired(value: Mapping[str, Any] | None, now: datetime) -> bool:
    moment = expiry(value)
    return moment is not None and moment <= now


def live(value: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """`value`, or None when it is absent or expired."""
    return None if value is None or expired(value, now) else value
