"""Routing: the queue or team label the CRM reads to pick who takes the conversation."""

from __future__ import annotations

from atende.policies.decision import Policy, PolicyDecision
from atende.policies.text import first_phrase
from atende.tenants.tenant_config import TenantConfig


def route_for(
    text: str | None, tenant: TenantConfig, faq_queue: str | None = None
) -> PolicyDecision:
    """The first routing rule the text matches, else the matched FAQ's queue, else the
    tenant's default queue."""
    for index, rule in enumerate(tenant.routing):
        if first_phrase(text, rule.keywords) is not None:
            return PolicyDecision(Policy.ROUTING, rule.queue, f"rule_{index}")
    if faq_queue is not None:
        return PolicyDecision(Policy.ROUTING, faq_queue, "faq")
    return PolicyDecision(Policy.ROUTING, tenant.default_queue, "default")
