"""The Instagram Send API (direct messages) and comment replies: a record whose reply_context
names a `comment_id` is published as a public reply to that comment."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from atende.channels.instagram.outbound import LIMITS, MAX_COMMENT_REPLY
from atende.channels.meta.client import MetaSendApi


def instagram_api(
    api_base_url: str,
    access_token: Callable[[], str | None],
    page_ids: Mapping[str, str] | None = None,
) -> MetaSendApi:
    return MetaSendApi(
        "Instagram",
        api_base_url,
        access_token,
        LIMITS,
        comment_reply_chars=MAX_COMMENT_REPLY,
        sender_ids=page_ids,
    )
