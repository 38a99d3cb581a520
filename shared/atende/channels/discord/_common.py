"""Shared pieces of Discord parsing: defensive field readers, snowflake times, and how an
item we cannot interpret is kept as an `UnsupportedEvent`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from atende.channels.unsupported import EPOCH, unsupported_event
from atende.domain.events import UnsupportedEvent

CHANNEL = "discord"
#: occurred_at of an item without a usable time: fixed, so ids and audit entries built from
#: it stay stable across redeliveries.
MALFORMED = "malformed_item"
#: The interaction token is a credential (it answers as the app for 15 minutes); it travels
#: only in `reply_context`, never in an event's `raw` copy.
REDACTED = "[redacted]"

#: Milliseconds from the Unix epoch to Discord's epoch (2015-01-01T00:00:00Z).
DISCORD_EPOCH_MS = 1420070400000
_MAX_SNOWFLAKE_DIGITS = 20
_SNOWFLAKE_BITS = 64


def without_token(item: dict[str, Any]) -> dict[str, Any]:
    """The item with its interaction token masked (see REDACTED)."""
    return {**item, "token": REDACTED} if "token" in item else dict(item)


def unsupported(
    item: object,
    reason: str,
    account_id: str,
    *,
    event_id: str | None = None,
    contact_id: str | None = None,
    occurred_at: datetime = EPOCH,
) -> UnsupportedEvent:
    """Keep an item we cannot interpret, with its interaction token masked."""
    raw = without_token(item) if isinstance(item, dict) else {"item": item}
    return unsupported_event(
        CHANNEL, raw, reason, account_id,
        event_id=event_id, contact_id=contact_id, occurred_at=occurred_at,
    )  # fmt: skip


def snowflake_time(value: object) -> datetime | None:
    """When a snowflake id (a decimal string) was created, else None if it is not one."""
    if not (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= _MAX_SNOWFLAKE_DIGITS
    ):
        return None
    number = int(value)
    if number.bit_length() > _SNOWFLAKE_BITS:
        return None
    return datetime.fromtimestamp(((number >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 time; Webhook Events send it without an offset, which means UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def ident(value: object) -> str | None:
    """A non-empty string id (Discord sends snowflakes as strings)."""
    return value if isinstance(value, str) and value else None


def integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
