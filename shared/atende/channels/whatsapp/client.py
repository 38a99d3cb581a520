"""The Graph API send call for WhatsApp: the request for an outbox record, and how to read
the answer (a message id, or an error classified as transient or permanent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from atende.channels.graph.errors import classify_error
from atende.channels.whatsapp.errors import CLOUD_API_CODES
from atende.channels.whatsapp.outbound import build_payload, extract_message_id, messages_url
from atende.domain.outbox import OutboxRecord
from atende.errors import AtendeError, ConfigurationError
from atende.ports import ProviderCall


class WhatsAppCloudApi:
    def __init__(self, api_base_url: str, access_token: Callable[[], str | None]) -> None:
        self._base_url = api_base_url
        self._access_token = access_token

    def prepare(self, record: OutboxRecord) -> ProviderCall:
        token = self._access_token()
        if not token:
            raise ConfigurationError("WhatsApp access token is not configured")
        return ProviderCall(
            url=messages_url(self._base_url, record.account_id),
            headers={"Authorization": f"Bearer {token}"},
            # Our outbox id comes back in status webhooks: it proves a send we could not confirm.
            json=build_payload(record.message, record.recipient, callback_data=record.id),
        )

    def message_id(self, response_body: bytes) -> str | None:
        try:
            parsed: Any = json.loads(response_body)
        except ValueError:
            return None
        return extract_message_id(parsed) if isinstance(parsed, dict) else None

    def classify(self, status_code: int, response_body: bytes) -> AtendeError:
        return classify_error(status_code, response_body, CLOUD_API_CODES, product="WhatsApp")
