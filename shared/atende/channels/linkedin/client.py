"""The LinkedIn Comments API call: the request for an outbox record, and how to read the
answer (the new comment's id, or an error classified as transient or permanent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from atende.channels.linkedin.errors import classify_error
from atende.channels.linkedin.outbound import (
    build_comment,
    comments_url,
    extract_comment_id,
    request_headers,
)
from atende.domain.outbox import OutboxRecord
from atende.errors import AtendeError, ConfigurationError
from atende.ports import ProviderCall


class LinkedInCommentsApi:
    def __init__(
        self, api_base_url: str, api_version: str, access_token: Callable[[], str | None]
    ) -> None:
        self._base_url = api_base_url
        self._api_version = api_version
        self._access_token = access_token

    def prepare(self, record: OutboxRecord) -> ProviderCall:
        # Validated first: a reply LinkedIn would refuse fails the same way with or without
        # a token, and must never be retried.
        target, body = build_comment(record.message, record.account_id, record.reply_context)
        token = self._access_token()
        if not token:
            raise ConfigurationError("LinkedIn access token is not configured")
        return ProviderCall(
            url=comments_url(self._base_url, target),
            headers=request_headers(token, self._api_version),
            json=body,
        )

    def message_id(self, response_body: bytes) -> str | None:
        try:
            parsed: Any = json.loads(response_body)
        except ValueError:
            return None
        return extract_comment_id(parsed) if isinstance(parsed, dict) else None

    def classify(self, status_code: int, response_body: bytes) -> AtendeError:
        return classify_error(status_code, response_body)
