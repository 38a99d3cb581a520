"""What travels in a task body between the functions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from atende.domain.events import InboundEvent

PROCESS_INBOUND = "process_inbound"
SEND_OUTBOUND = "send_outbound"


class InboundTask(BaseModel):
    """An event the webhook accepted: admit it (and answer it after the hold)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["event"] = "event"
    tenant_id: str
    event: InboundEvent
    #: When the webhook accepted it: the answering hold counts from here.
    received_at: datetime | None = None
    #: The delivery's correlation id. A task's header carries one too, but a batch task
    #: holds events of several deliveries, each with its own.
    correlation_id: str | None = None


class InboundBatch(BaseModel):
    """Events of several deliveries that reached one webhook instance together, enqueued as
    one task (see webhook/batcher.py); each is processed as its own InboundTask."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["batch"] = "batch"
    tasks: tuple[InboundTask, ...] = Field(min_length=1)


class AnswerTask(BaseModel):
    """Answer a session's ready inbox; scheduled for when `message_id`'s hold ends."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["answer"] = "answer"
    tenant_id: str
    channel: str
    session_id: str
    message_id: str


class IdleTask(BaseModel):
    """Close the session if nothing happened since `activity_seq` (scheduled at the tenant's
    idle timeout after a turn)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["idle"] = "idle"
    tenant_id: str
    channel: str
    session_id: str
    activity_seq: int
    #: Not before this: a timer that fires early is retried, never acted on.
    due_at: datetime


ProcessTask = Annotated[
    InboundTask | InboundBatch | AnswerTask | IdleTask, Field(discriminator="kind")
]
PROCESS_TASK: TypeAdapter[ProcessTask] = TypeAdapter(ProcessTask)
