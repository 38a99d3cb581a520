"""The handoff record an external CRM reads to list conversations waiting for an agent.

One document per session at `handoffs/{session id}`, a projection of `Session.handoff`
written in the same transaction as the session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from atende.domain.session import Session


class HandoffStatus(StrEnum):
    WAITING = "waiting"
    #: An agent handed the conversation back to the bot.
    RELEASED = "released"
    RESOLVED = "resolved"


class HandoffRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str
    tenant_id: str
    channel: str
    status: HandoffStatus
    queue: str
    reason: str
    off_hours: bool
    requested_at: datetime
    updated_at: datetime
    #: Contact messages no agent answered yet, and when the last one came.
    unread: int = 0
    last_inbound_at: datetime | None = None
    closed_at: datetime | None = None
    #: Set once the handoff is over: Firestore's TTL policy removes the record after it.
    expire_at: datetime | None = None


def project(before: Session, after: Session, now: datetime, ttl: timedelta) -> HandoffRecord | None:
    """The record to write when the session's handoff changed, else None."""
    if after.handoff == before.handoff:
        return None
    info = after.handoff or before.handoff
    if info is None:  # pragma: no cover - both None is "unchanged", handled above
        return None
    waiting = after.handoff is not None
    if waiting:
        status = HandoffStatus.WAITING
    else:
        status = HandoffStatus.RESOLVED if after.state == "resolved" else HandoffStatus.RELEASED
    return HandoffRecord(
        session_id=after.id,
        tenant_id=after.tenant_id,
        channel=after.channel,
        status=status,
        queue=info.queue,
        reason=info.reason,
        off_hours=info.off_hours,
        requested_at=info.requested_at,
        updated_at=now,
        unread=info.unread if waiting else 0,
        last_inbound_at=info.last_inbound_at,
        closed_at=None if waiting else now,
        expire_at=None if waiting else now + ttl,
    )
