"""Business hours: whether a person from the tenant's team is reachable now."""

from __future__ import annotations

from datetime import datetime

from atende.tenants.tenant_config import TenantConfig


def within_business_hours(tenant: TenantConfig, now: datetime) -> bool:
    return tenant.business_hours is None or tenant.business_hours.is_open(now)
