"""A verified Google Calendar push notice as internal events (the webhook hot path).

The notice says only that the watched events collection changed: `sync` opens a channel
(acknowledged, nothing to do), `exists` and `not_exists` become one `CalendarSyncRequested`,
which `process_inbound` turns into an incremental sync. The calendar and its tenant come
from configuration, through the hash in our channel id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atende.channels.google_calendar.channel_ids import CalendarIndex
from atende.channels.google_calendar.verify import (
    CHANNEL_EXPIRATION_HEADER,
    CHANNEL_ID_HEADER,
    MESSAGE_NUMBER_HEADER,
    RESOURCE_ID_HEADER,
    RESOURCE_STATE_HEADER,
    RESOURCE_URI_HEADER,
    header,
)
from atende.domain.events import CalendarSyncRequested, InboundEvent, UnsupportedEvent
from atende.errors import MalformedPayloadError

CHANNEL = "google_calendar"
SYNC = "sync"
CHANGED_STATES = frozenset({"exists", "not_exists"})
# Message numbers are integers; 20 digits is beyond any int64.
_MAX_MESSAGE_NUMBER_DIGITS = 20
#: What `raw` keeps of a notice: every documented header except the token (a secret).
_KEPT_HEADERS = (
    CHANNEL_ID_HEADER,
    MESSAGE_NUMBER_HEADER,
    RESOURCE_ID_HEADER,
    RESOURCE_STATE_HEADER,
    RESOURCE_URI_HEADER,
    CHANNEL_EXPIRATION_HEADER,
)


def parse_notification(
    headers: Mapping[str, str], calendars: CalendarIndex, received_at: datetime
) -> list[InboundEvent]:
    """The events of a verified notice; raise MalformedPayloadError if it is not one."""
    channel = header(headers, CHANNEL_ID_HEADER) or ""
    calendar = calendars.resolve(channel)
    if calendar is None:
        raise MalformedPayloadError("notice for a channel that names no configured calendar")
    state = header(headers, RESOURCE_STATE_HEADER)
    number = header(headers, MESSAGE_NUMBER_HEADER)
    if not state:
        raise MalformedPayloadError("missing X-Goog-Resource-State header")
    if (
        not number
        or not number.isascii()
        or not number.isdigit()
        or len(number) > _MAX_MESSAGE_NUMBER_DIGITS
    ):
        raise MalformedPayloadError("X-Goog-Message-Number is not an integer")
    if state == SYNC:
        return []
    raw: dict[str, Any] = {
        name: value for name in _KEPT_HEADERS if (value := header(headers, name)) is not None
    }
    event_id = f"{channel}:{number}"
    if state not in CHANGED_STATES:
        return [
            UnsupportedEvent(
                channel=CHANNEL,
                event_id=event_id,
                account_id=calendar.calendar_id,
                occurred_at=received_at,
                raw=raw,
                reason=f"unsupported_resource_state:{state[:40]}",
            )
        ]
    return [
        CalendarSyncRequested(
            channel=CHANNEL,
            event_id=event_id,
            account_id=calendar.calendar_id,
            occurred_at=received_at,
            raw=raw,
            calendar_id=calendar.calendar_id,
            watch_id=channel,
        )
    ]
