"""Pure: how a provider's delivery status changes the outbox record it refers to."""

from __future__ import annotations

from datetime import datetime

from atende.domain import keys
from atende.domain.audit import AuditEntry, AuditKind
from atende.domain.decisions import StatusDecision
from atende.domain.events import STATUS_RANK, MessageFailed, StatusEvent
from atende.domain.outbox import OutboxRecord, OutboxStatus

#: A record we could not confirm (a crash mid-send, a retry after a timeout) is proven sent
#: by any status the provider reports about it.
#: A provider's status about these settles them: the provider did get the message
#: (a dead-lettered reply whose last attempt's outcome was unknown to us included).
_UNCONFIRMED = frozenset(
    {
        OutboxStatus.SENDING,
        OutboxStatus.RETRYING,
        OutboxStatus.NEEDS_REVIEW,
        OutboxStatus.DEAD_LETTERED,
    }
)


def decide_status(
    record: OutboxRecord | None,
    event: StatusEvent,
    now: datetime,
    tenant_id: str,
    correlation_id: str | None = None,
) -> StatusDecision:
    def audit(**detail: str | int | bool | None) -> tuple[AuditEntry, ...]:
        return (
            AuditEntry(
                kind=AuditKind.DELIVERY_STATUS,
                at=now,
                channel=event.channel,
                tenant_id=tenant_id,
                session_id=record.session_id if record else None,
                event_id=keys.event_ref(event.channel, event.event_id),
                outbox_id=record.id if record else None,
                correlation_id=correlation_id,
                detail={"status": event.type, **detail},
            ),
        )

    if record is None:
        return StatusDecision(record=None, audit=audit(outcome="unknown_message"))
    updated = record
    current_rank = STATUS_RANK.get(record.delivery_status or "", 0)
    if STATUS_RANK[event.type] > current_rank:
        fields: dict[str, object] = {"delivery_status": event.type, "updated_at": now}
        if isinstance(event, MessageFailed):
            fields["delivery_errors"] = tuple(error.model_dump() for error in event.errors)
        updated = updated.model_copy(update=fields)
    if updated.provider_message_id is None:
        updated = updated.model_copy(update={"provider_message_id": event.provider_message_id})
    if record.status in _UNCONFIRMED and not isinstance(event, MessageFailed):
        updated = updated.changed(OutboxStatus.SENT, at=now, detail=f"confirmed_by_{event.type}")
    if updated != record and updated.version == record.version:
        updated = updated.model_copy(update={"version": record.version + 1})
    outcome = "applied" if updated != record else "stale"
    return StatusDecision(record=updated, audit=audit(outcome=outcome))
