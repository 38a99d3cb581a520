"""Public comments kept for the CRM: `comments/{id}`, one per provider comment.

The bot never answers in public; an agent may, through the agent API, in the comment's own
thread, where the channel allows it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from atende.domain import keys
from atende.domain.events import CommentReceived


class CommentStatus(StrEnum):
    NEW = "new"
    REPLIED = "replied"


class CommentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    channel: str
    #: Our account on the provider (the page, the organization).
    account_id: str
    #: Who wrote it (personal data: never logged).
    author_id: str | None = None
    comment_id: str
    target_id: str | None = None
    parent_id: str | None = None
    #: The comment's text (personal data: never logged).
    text: str | None = None
    live: bool = False
    #: What a reply in its thread needs; empty where the channel cannot answer comments.
    reply_context: dict[str, str] = {}
    status: CommentStatus = CommentStatus.NEW
    received_at: datetime
    replied_at: datetime | None = None
    expire_at: datetime

    @property
    def answerable(self) -> bool:
        return bool(self.reply_context)


def comment_record(
    event: CommentReceived, tenant_id: str, now: datetime, ttl: timedelta
) -> CommentRecord:
    return CommentRecord(
        id=keys.comment_id(event.channel, tenant_id, event.comment_id),
        tenant_id=tenant_id,
        channel=event.channel,
        account_id=event.account_id,
        author_id=event.contact_id,
        comment_id=event.comment_id,
        target_id=event.target_id,
        parent_id=event.parent_id,
        text=event.text,
        live=event.live,
        reply_context=event.reply_context,
        received_at=now,
        expire_at=now + ttl,
    )
