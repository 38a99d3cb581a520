"""The WhatsApp Cloud API's documented error codes, for the Graph API classifier
(channels/graph/errors.py): which failures are worth retrying."""

from __future__ import annotations

from atende.channels.graph.errors import GraphErrorCodes

CLOUD_API_CODES = GraphErrorCodes(
    transient=frozenset(
        {
            1,  # API Unknown: possibly a temporary server error; Meta advises retrying.
            2,  # API Service: temporary downtime or overload.
            4,  # API Too Many Calls: app-level rate limit.
            80007,  # Rate limit issues: the WhatsApp Business Account's rate limit.
            130429,  # Rate limit hit: Cloud API throughput of the phone number reached.
            131000,  # Something went wrong: generic, unknown failure on Meta's side.
            131016,  # Service unavailable: a service is temporarily down.
            131056,  # Pair rate limit: too many messages to the same recipient in a short time.
        }
    )
)
