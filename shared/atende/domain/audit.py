"""Audit entries: append-only decisions, with no personal data in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class AuditKind(StrEnum):
    STATE_TRANSITION = "state_transition"
    HANDOFF = "handoff"
    REPLY_QUEUED = "reply_queued"
    SEND_OUTCOME = "send_outcome"
    DELIVERY_STATUS = "delivery_status"
    REJECTED_INPUT = "rejected_input"
    UNSUPPORTED_EVENT = "unsupported_event"
    REVIEW_REQUIRED = "review_required"
    ORDER_BYPASSED = "order_bypassed"
    #: A policy (abuse, opt-out, handoff, business hours, routing) decided something.
    POLICY_DECISION = "policy_decision"
    #: The AI step: its suggestion used, or the deterministic fallback and why.
    AI_DECISION = "ai_decision"
    INVALID_TRANSITION = "invalid_transition"
    AGENT_ACTION = "agent_action"
    REACTION = "reaction"
    COMMENT = "comment"
    CONTENT_PUBLISHED = "content_published"
    CALENDAR_SYNC = "calendar_sync"
    #: A calendar change and the notice it sent (or why none went out).
    APPOINTMENT = "appointment"


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: AuditKind
    at: datetime
    channel: str
    tenant_id: str | None = None
    session_id: str | None = None
    event_id: str | None = None
    outbox_id: str | None = None
    correlation_id: str | None = None
    #: What was decided and why, as codes and states: never message text or contact ids.
    detail: dict[str, str | int | bool | None] = {}
