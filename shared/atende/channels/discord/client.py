"""The Discord follow-up call: the request for an outbox record (through the interaction
webhook its reply context names), and how to read the answer.

Interaction webhooks need no bot token (the interaction token in the URL is the credential),
so this is the whole outbound side. A token is valid for 15 minutes after the interaction:
a reply created later (an agent's, an inactivity notice) is refused here, before any request,
with the code "interaction_expired".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from atende import __version__
from atende.channels.discord.errors import classify_error
from atende.channels.discord.outbound import build_followup, extract_message_id, followup_url
from atende.domain.outbox import OutboxRecord
from atende.errors import AtendeError, InvalidOutboundMessageError
from atende.ports import Clock, ProviderCall

#: Discord asks HTTP API clients to name themselves as "DiscordBot ($url, $version)".
USER_AGENT = f"DiscordBot (atende, {__version__})"


class DiscordFollowupApi:
    def __init__(self, api_base_url: str, clock: Clock) -> None:
        self._base_url = api_base_url
        self._clock = clock

    def prepare(self, record: OutboxRecord) -> ProviderCall:
        context = record.reply_context
        application_id = context.get("application_id")
        token = context.get("token")
        expires_at = _when(context.get("expires_at"))
        if not application_id or not token or expires_at is None:
            raise InvalidOutboundMessageError(
                "Discord replies need an interaction's reply context",
                code="missing_reply_context",
            )
        if self._clock.now() >= expires_at:
            raise InvalidOutboundMessageError(
                "the interaction token expired (valid 15 minutes)", code="interaction_expired"
            )
        return ProviderCall(
            url=followup_url(self._base_url, application_id, token),
            headers={"User-Agent": USER_AGENT},
            json=build_followup(record.message),
        )

    def message_id(self, response_body: bytes) -> str | None:
        try:
            parsed: Any = json.loads(response_body)
        except ValueError:
            return None
        return extract_message_id(parsed) if isinstance(parsed, dict) else None

    def classify(self, status_code: int, response_body: bytes) -> AtendeError:
        return classify_error(status_code, response_body)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Written by our parser with an offset; a naive value is not ours to guess at.
    return parsed if parsed.tzinfo is not None else None
