"""A tenant with `outbound: dry_run` (the smoke tenant): send_outbound builds and validates the
provider request and records the reply sent with the dry-run marks, and never calls the
provider; every other tenant's replies are sent as before."""

import pytest
from tests.unit.send_outbound.send_world import build as build_world

from atende.adapters.http_sender import DryRunSender
from atende.domain.outbox import CallOutcome, OutboxStatus
from atende.errors import ConfigurationError, InvalidOutboundMessageError, TransientError
from atende.ports import ProviderCall
from atende.send_outbound import decisions as send_decision
from atende.tenants.tenant_config import TenantConfig


class Provider:
    """A channel's ProviderApi: prepare validates; nothing here can send."""

    def __init__(self, invalid=False):
        self.prepared = []
        self.invalid = invalid

    def prepare(self, record):
        if self.invalid:
            raise InvalidOutboundMessageError("recipient must be a non-empty wa_id of digits")
        self.prepared.append(record.id)
        return ProviderCall(url="https://graph/x", headers={}, json={"to": record.recipient})


class Tenants:
    def __init__(self, configs, down=False):
        self.configs = configs
        self.down = down

    def get(self, tenant_id):
        if self.down:
            raise TransientError("tenant store unreachable", code="store_unavailable")
        return self.configs.get(tenant_id, TenantConfig())


def build(tenant, tenants, rehearsal=None):
    """A world whose tenant is `tenant`, with one reply committed; `rehearsal`: the channel's
    ProviderApi behind the dry-run sender (False: no dry-run sender at all)."""
    provider = rehearsal if rehearsal is not None else Provider()
    dry_run = {"whatsapp": DryRunSender(provider)} if provider else {}
    world = build_world(tenant=tenant, tenants=tenants, dry_run_senders=dry_run)
    return world, world.commit("r1"), provider


SMOKE = {"smoke": TenantConfig(outbound="dry_run")}


def test_a_dry_run_tenants_reply_is_built_and_recorded_but_never_sent():
    world, body, provider = build("smoke", Tenants(SMOKE))
    assert world.send(body) == "dry_run"
    assert world.provider.sent == [] and provider.prepared == ["r1"]
    record = world.store.records["r1"]
    assert record.status == OutboxStatus.SENT and send_decision.is_dry_run(record)
    assert record.last_call == CallOutcome.NOT_CALLED and record.provider_message_id is None
    assert record.attempts == 0 and record.history[-1].detail == "dry_run"
    assert [entry.detail["outcome"] for entry in world.store.audit] == ["dry_run"]


def test_a_dry_run_reply_settles_so_the_next_reply_goes_too():
    world, first, provider = build("smoke", Tenants(SMOKE))
    second = world.commit("r2")
    assert world.send(first) == "dry_run" and world.send(second) == "dry_run"
    assert provider.prepared == ["r1", "r2"] and world.provider.sent == []


def test_other_tenants_are_sent_and_never_look_like_a_dry_run():
    world, body, provider = build("demo", Tenants(SMOKE))
    assert world.send(body) == "sent"
    assert world.provider.sent == ["r1"] and provider.prepared == []
    record = world.store.records["r1"]
    assert record.status == OutboxStatus.SENT and not send_decision.is_dry_run(record)


def test_a_dry_run_reply_that_fails_validation_fails_like_a_real_one():
    world, body, _ = build("smoke", Tenants(SMOKE), Provider(invalid=True))
    assert world.send(body) == "failed"
    assert world.provider.sent == [] and world.store.status("r1") == OutboxStatus.FAILED
    assert world.store.records["r1"].last_call == CallOutcome.NOT_CALLED


def test_a_dry_run_tenant_without_a_dry_run_sender_is_never_sent_for_real():
    world, body, _ = build("smoke", Tenants(SMOKE), rehearsal=False)
    assert world.send(body) == "failed"
    assert world.provider.sent == [] and world.store.records["r1"].last_error == "no_sender"


def test_an_unreadable_tenant_store_retries_without_sending():
    world, body, _ = build("smoke", Tenants(SMOKE, down=True))
    with pytest.raises(TransientError):
        world.send(body)
    assert world.provider.sent == []
    record = world.store.records["r1"]
    assert record.status == OutboxStatus.RETRYING
    assert record.last_call == CallOutcome.NOT_CALLED  # the next attempt may send


def test_the_dry_run_sender_needs_what_a_send_needs():
    class NoToken(Provider):
        def prepare(self, record):
            raise ConfigurationError("WhatsApp access token is not configured")

    world, _, _ = build("smoke", Tenants(SMOKE))
    with pytest.raises(ConfigurationError):
        DryRunSender(NoToken()).send(world.store.records["r1"])


def test_outbound_is_send_unless_a_tenant_says_dry_run():
    assert TenantConfig().outbound == "send"
    with pytest.raises(ValueError, match="outbound"):
        TenantConfig.model_validate({"outbound": "dry-run"})
