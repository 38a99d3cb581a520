"""The Send API call for Messenger and Instagram: the request for an outbox record, and how to
read the answer (a message id, or an error classified as transient or permanent)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from atende.channels.graph.errors import classify_error
from atende.channels.meta.errors import SEND_API_CODES
from atende.channels.meta.outbound import (
    SendLimits,
    build_comment_reply,
    build_message,
    comment_replies_url,
    extract_message_id,
    messages_url,
)
from atende.domain.outbox import OutboxRecord
from atende.errors import AtendeError, ConfigurationError
from atende.ports import ProviderCall

#: The outbox record's reply_context key that turns a reply into a public comment reply.
COMMENT_ID = "comment_id"


class MetaSendApi:
    """A `ProviderApi` for one Meta product. With `comment_reply_chars` set (Instagram), a
    record whose `reply_context` names a `comment_id` is published as a reply to it.
    `sender_ids` maps an account id to the id in the Send API path when they differ (an
    Instagram account sends through its linked Facebook Page on graph.facebook.com)."""

    def __init__(
        self,
        product: str,
        api_base_url: str,
        access_token: Callable[[], str | None],
        limits: SendLimits,
        comment_reply_chars: int | None = None,
        sender_ids: Mapping[str, str] | None = None,
    ) -> None:
        self._product = product
        self._base_url = api_base_url
        self._access_token = access_token
        self._limits = limits
        self._comment_reply_chars = comment_reply_chars
        self._sender_ids = dict(sender_ids or {})

    def prepare(self, record: OutboxRecord) -> ProviderCall:
        comment_id = record.reply_context.get(COMMENT_ID)
        if comment_id is not None and self._comment_reply_chars is not None:
            url = comment_replies_url(self._base_url, comment_id)
            body = build_comment_reply(record.message, self._comment_reply_chars)
        else:
            sender = self._sender_ids.get(record.account_id, record.account_id)
            url = messages_url(self._base_url, sender)
            body = build_message(record.message, record.recipient, self._limits)
        # Built before the token is read: an invalid message is refused even when the token
        # is missing, and a missing token never hides behind a payload error.
        token = self._access_token()
        if not token:
            raise ConfigurationError(f"{self._product} access token is not configured")
        return ProviderCall(url=url, headers={"Authorization": f"Bearer {token}"}, json=body)

    def message_id(self, response_body: bytes) -> str | None:
        try:
            parsed: Any = json.loads(response_body)
        except ValueError:
            return None
        return extract_message_id(parsed) if isinstance(parsed, dict) else None

    def classify(self, status_code: int, response_body: bytes) -> AtendeError:
        return classify_error(status_code, response_body, SEND_API_CODES, product=self._product)
