"""Handoff requests: a keyword in the text, or the explicit "talk to a person" choice."""

from __future__ import annotations

from atende.domain.events import MessageReceived
from atende.policies.text import first_phrase
from atende.tenants.tenant_config import TenantConfig

#: The choice id of a "talk to a person" button or list row, on any channel.
HANDOFF_CHOICE = "handoff"


def handoff_reason(message: MessageReceived, tenant: TenantConfig) -> str | None:
    """Why the contact asked for a person, or None if they did not."""
    if message.choice_id == HANDOFF_CHOICE:
        return "explicit_request"
    if first_phrase(message.text, tenant.handoff_keywords) is not None:
        return "handoff_keyword"
    return None
