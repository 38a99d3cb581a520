"""Defensive readers for Meta webhook values, and the `UnsupportedEvent` we keep for anything
we cannot interpret. A field of the wrong type counts as absent: one odd item must never
cost the rest of a delivery."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from atende.channels.unsupported import unsupported_event

#: occurred_at of an item without a usable time: fixed, so ids and audit entries built from
#: it stay stable across redeliveries.
MALFORMED = "malformed_item"

# Meta sends milliseconds in `entry[].messaging[].timestamp` and seconds in some test
# payloads and change values. 10**11 ms is 1973; 10**11 s is the year 5138.
_MILLISECONDS_FROM = 10**11
# 13 digits of milliseconds reach the year 2286; more is garbage.
_MAX_TIMESTAMP_DIGITS = 13


def digest(value: str) -> str:
    """A short PII-free stand-in for a contact id inside an event id."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


#: Keep something we cannot interpret (see channels/unsupported.py).
unsupported = unsupported_event


def parse_time(value: object) -> datetime | None:
    """Unix seconds or milliseconds (int or decimal string) as an aware UTC datetime."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
            return None
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if len(str(value)) > _MAX_TIMESTAMP_DIGITS:
            return None
        number = value
    else:
        return None
    # Bounded by the digit count, so always a valid datetime (at most the year 5138).
    seconds = number / 1000 if number >= _MILLISECONDS_FROM else float(number)
    return datetime.fromtimestamp(seconds, tz=UTC)


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def ident(value: object) -> str | None:
    """A non-empty string id; Meta sends ids as strings (numbers are refused, not guessed)."""
    return value if isinstance(value, str) and value else None


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
