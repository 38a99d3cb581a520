"""Authenticity of a Google Calendar push notice: pure, constant-time, fail-closed.

Google signs nothing; a notice carries only headers (no body). What proves it is ours is the
channel token we chose when we created the channel and Google echoes back: for our channel
ids it is HMAC-SHA256(channel secret, channel id) (see `channel_ids`), so no stored channel
is read. A notice for an id we would not create for a configured calendar is refused even
with a matching token. Error messages never echo a header: tokens are secrets.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from atende.channels.google_calendar.channel_ids import (
    MAX_CHANNEL_ID,
    CalendarIndex,
    channel_token,
)
from atende.errors import ConfigurationError, SignatureError

CHANNEL_ID_HEADER = "x-goog-channel-id"
CHANNEL_TOKEN_HEADER = "x-goog-channel-token"  # noqa: S105 - a header name
RESOURCE_ID_HEADER = "x-goog-resource-id"
RESOURCE_URI_HEADER = "x-goog-resource-uri"
RESOURCE_STATE_HEADER = "x-goog-resource-state"
MESSAGE_NUMBER_HEADER = "x-goog-message-number"
CHANNEL_EXPIRATION_HEADER = "x-goog-channel-expiration"

#: Google's limit for a channel token.
MAX_TOKEN = 256


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name, whatever case the mapping keeps it in."""
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def verify_notification(
    headers: Mapping[str, str], secret: str | None, calendars: CalendarIndex
) -> None:
    """Raise unless the notice names one of our channels with that channel's token."""
    if not secret:
        raise ConfigurationError("Google Calendar channel secret is not configured")
    channel = header(headers, CHANNEL_ID_HEADER)
    token = header(headers, CHANNEL_TOKEN_HEADER)
    if not channel or len(channel) > MAX_CHANNEL_ID:
        raise SignatureError("missing or oversized X-Goog-Channel-ID header")
    if not token or len(token) > MAX_TOKEN:
        raise SignatureError("missing or oversized X-Goog-Channel-Token header")
    expected = channel_token(secret, channel).encode("ascii")
    # Bytes, so a non-ASCII header is a mismatch rather than a TypeError; both checks run
    # before either fails, so the answer's timing does not tell which one did.
    token_matches = hmac.compare_digest(expected, token.encode("utf-8", "surrogateescape"))
    ours = calendars.resolve(channel) is not None
    if not token_matches:
        raise SignatureError("channel token does not match the channel")
    if not ours:
        raise SignatureError("channel id is not one of our calendars' channels")
