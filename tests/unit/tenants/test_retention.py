"""A tenant's session retention: personal data is kept a bounded time after the last activity."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from atende.tenants.tenant_config import TenantConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "tenant-demo.json"


def test_sessions_are_kept_180_days_by_default():
    assert TenantConfig().session_retention == timedelta(days=180)


def test_a_tenant_chooses_its_retention():
    assert TenantConfig(session_retention_days=45).session_retention == timedelta(days=45)


@pytest.mark.parametrize("days", [0, 1, 30, 3651])
def test_a_retention_shorter_than_the_longest_timer_or_absurdly_long_is_refused(days):
    with pytest.raises(ValidationError) as error:
        TenantConfig(session_retention_days=days)
    problem = error.value.errors()[0]
    assert problem["loc"] == ("session_retention_days",)
    assert "31" in problem["msg"] or "3650" in problem["msg"]


def test_the_retention_outlasts_the_longest_idle_timeout():
    longest_idle = TenantConfig.model_fields["idle_timeout_seconds"].metadata
    limit = max(m.le for m in longest_idle if hasattr(m, "le"))
    shortest = TenantConfig.model_fields["session_retention_days"].metadata
    minimum = min(m.ge for m in shortest if hasattr(m, "ge"))
    assert timedelta(days=minimum) > timedelta(seconds=limit)


def test_at_most_20_required_fields():
    fields = [{"name": f"f{n}", "prompt": "?"} for n in range(21)]
    with pytest.raises(ValidationError):
        TenantConfig.model_validate({"required_fields": fields})


def test_the_example_configuration_states_its_retention():
    document = json.loads(EXAMPLE.read_text())
    document.pop("tenant_id")
    assert TenantConfig.model_validate(document).session_retention_days == 180
