"""What travels in a task body between the functions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from atende.domain.events import InboundEvent

PROCESS_INBOUND = "process_inbound"
SEND_OUTBOUND = "send_outbound"


class InboundTask(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str
    event: InboundEvent


class OutboundTask(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    outbox_id: str
