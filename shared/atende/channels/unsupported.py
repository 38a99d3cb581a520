"""What every channel does with something correctly signed that it cannot interpret: keep it
as an `UnsupportedEvent`, under an id derived from its content when it has none."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from atende.domain.events import UnsupportedEvent

#: The time of an event the provider gave none for.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stable_item_id(item: object, prefix: str = "unsupported") -> str:
    """Event id for an item with no usable provider id: a hash of its canonical JSON, so a
    redelivery of the same item gets the same id."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"))
    return f"{prefix}:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def unsupported_event(
    channel: str,
    item: object,
    reason: str,
    account_id: str,
    *,
    event_id: str | None = None,
    contact_id: str | None = None,
    occurred_at: datetime = EPOCH,
) -> UnsupportedEvent:
    """Keep an item we cannot interpret; a non-object item is wrapped as {"item": ...}."""
    return UnsupportedEvent(
        channel=channel,
        event_id=event_id or stable_item_id(item),
        account_id=account_id,
        contact_id=contact_id,
        occurred_at=occurred_at,
        raw=item if isinstance(item, dict) else {"item": item},
        reason=reason,
    )
