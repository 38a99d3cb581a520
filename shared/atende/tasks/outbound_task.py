"""What a send task carries (`send_outbound`). Apart from the other task contracts, so that
the webhook, which builds only inbound tasks, never imports the outbox models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from atende.domain.outbox import OutboxRecord


class OutboundTask(BaseModel):
    """Send replies of one session, in order, from one task: the replies one commit created
    (as created, with that commit's time, so that each is claimed without a read), the ids
    alone (a replay: read first), or every unsettled reply up to one (a redelivery that
    finds its work committed: read back along `OutboxRecord.after`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: str
    outbox_ids: tuple[str, ...] = ()
    #: The records as the commit at `written_at` created them (empty: read them).
    records: tuple[OutboxRecord, ...] = ()
    #: That commit's time, RFC 3339 with nanoseconds: the records' update time.
    written_at: str | None = None
    #: With no ids: this reply and the unsettled ones before it.
    through: str | None = None

    @model_validator(mode="after")
    def _something_to_send(self) -> OutboundTask:
        if not self.outbox_ids and self.through is None:
            raise ValueError("an outbound task names its replies or the last of them")
        return self
