"""The dedupe record: proof that an inbound event's work is committed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class DedupeRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: str
    tenant_id: str
    event_type: str
    created_at: datetime
    #: For the TTL policy; readers also treat a record past this time as absent.
    expire_at: datetime

    def expired(self, now: datetime) -> bool:
        return self.expire_at <= now
