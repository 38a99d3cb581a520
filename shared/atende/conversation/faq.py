"""The deterministic path's answers: the tenant's FAQ entries, matched by keyword."""

from __future__ import annotations

from atende.policies.text import first_phrase
from atende.tenants.tenant_config import FaqEntry, TenantConfig


def match_faq(text: str | None, tenant: TenantConfig) -> FaqEntry | None:
    for entry in tenant.faq:
        if first_phrase(text, entry.keywords) is not None:
            return entry
    return None
