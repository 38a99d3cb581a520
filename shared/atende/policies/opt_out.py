"""Opt-out: a message that is exactly an opt-out keyword stops automated sends to the contact
until they write again."""

from __future__ import annotations

from atende.domain.events import MessageReceived
from atende.policies.text import is_exactly
from atende.tenants.tenant_config import TenantConfig


def asks_to_opt_out(message: MessageReceived, tenant: TenantConfig) -> bool:
    return is_exactly(message.text, tenant.opt_out_keywords)
