"""A tenant with `outbound: dry_run` (the smoke tenant): send_outbound builds and validates the
provider request and records the reply sent with the dry-run marks, and never calls the
provider; every other tenant's replies are sent as before."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from atende.adapters.http_sender import DryRunSender
from atende.domain.messages import TextMessage
from atende.domain.outbox import CallOutcome, OutboxRecord, OutboxStatus
from atende.domain.session import PendingReply, Session
from atende.errors import ConfigurationError, InvalidOutboundMessageError, TransientError
from atende.ports import FinishedSend, ProviderCall, SendResult
from atende.send_outbound import decisions as send_decision
from atende.send_outbound.sender import OutboundSender
from atende.tasks.contracts import OutboundTask
from atende.tasks.follow_ups import FollowUps
from atende.tenants.tenant_config import TenantConfig

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Store:
    def __init__(self, tenant):
        self.record = OutboxRecord(
            id="r1", tenant_id=tenant, channel="whatsapp", session_id="s1",
            account_id="100000000000000", recipient="5500000000000",
            message=TextMessage(body="Olá"), inbound_event_id="wamid.S", reply_index=0,
            order_key="0000", created_at=T0, updated_at=T0, expire_at=T0 + timedelta(days=30),
        )  # fmt: skip
        pending = (PendingReply(outbox_id="r1", order_key="0000", queued_at=T0),)
        self.session = Session.model_construct(outbound_pending=pending, opted_out=False)
        self.audit = []

    def begin_send(self, outbox_id, decide):
        gate = decide(self.record, self.session)
        if gate.action == "send":
            self.record = gate.record
        return replace(gate, pending=self.session.outbound_pending)

    def finish_send(self, outbox_id, apply, *, release, audit):
        self.record = apply(self.record)
        self.audit.extend(audit)
        return FinishedSend(self.record, ())


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


class RealSender:
    def __init__(self):
        self.sent = []

    def send(self, record):
        self.sent.append(record.id)
        return SendResult(provider_message_id="wamid.out", attempts=1)


class Tenants:
    def __init__(self, configs, down=False):
        self.configs = configs
        self.down = down

    def get(self, tenant_id):
        if self.down:
            raise TransientError("tenant store unreachable", code="store_unavailable")
        return self.configs.get(tenant_id, TenantConfig())


class Clock:
    def now(self):
        return T0


class Queue:
    def enqueue(self, task):
        return True


class NoCheckpoints:
    def reached(self, name):
        return None


def build(tenant, tenants, rehearsal=None):
    store, real = Store(tenant), RealSender()
    provider = rehearsal if rehearsal is not None else Provider()
    outbound = OutboundSender(
        store, {"whatsapp": real}, Clock(), NoCheckpoints(), timedelta(seconds=300),
        FollowUps(Queue()), tenants=tenants,
        dry_run_senders={"whatsapp": DryRunSender(provider)} if provider else {},
    )  # fmt: skip
    return outbound, store, real, provider


def send(outbound):
    return outbound.handle(OutboundTask(outbox_id="r1").model_dump_json().encode(), "corr")


SMOKE = {"smoke": TenantConfig(outbound="dry_run")}


def test_a_dry_run_tenants_reply_is_built_and_recorded_but_never_sent():
    outbound, store, real, provider = build("smoke", Tenants(SMOKE))
    assert send(outbound) == "dry_run"
    assert real.sent == [] and provider.prepared == ["r1"]
    record = store.record
    assert record.status == OutboxStatus.SENT and send_decision.is_dry_run(record)
    assert record.last_call == CallOutcome.NOT_CALLED and record.provider_message_id is None
    assert record.attempts == 0 and record.history[-1].detail == "dry_run"
    assert [entry.detail["outcome"] for entry in store.audit] == ["dry_run"]


def test_other_tenants_are_sent_and_never_look_like_a_dry_run():
    outbound, store, real, provider = build("demo", Tenants(SMOKE))
    assert send(outbound) == "sent"
    assert real.sent == ["r1"] and provider.prepared == []
    assert store.record.status == OutboxStatus.SENT
    assert not send_decision.is_dry_run(store.record)


def test_a_dry_run_reply_that_fails_validation_fails_like_a_real_one():
    outbound, store, real, _ = build("smoke", Tenants(SMOKE), Provider(invalid=True))
    assert send(outbound) == "failed"
    assert real.sent == [] and store.record.status == OutboxStatus.FAILED


def test_a_dry_run_tenant_without_a_dry_run_sender_is_never_sent_for_real():
    outbound, store, real, _ = build("smoke", Tenants(SMOKE), rehearsal=False)
    assert send(outbound) == "failed"
    assert real.sent == [] and store.record.last_error == "no_sender"


def test_an_unreadable_tenant_store_retries_without_sending():
    outbound, store, real, _ = build("smoke", Tenants(SMOKE, down=True))
    with pytest.raises(TransientError):
        send(outbound)
    assert real.sent == []
    assert store.record.status == OutboxStatus.RETRYING
    assert store.record.last_call == CallOutcome.NOT_CALLED  # the next attempt may send


def test_the_dry_run_sender_needs_what_a_send_needs():
    class NoToken(Provider):
        def prepare(self, record):
            raise ConfigurationError("WhatsApp access token is not configured")

    with pytest.raises(ConfigurationError):
        DryRunSender(NoToken()).send(Store("smoke").record)


def test_outbound_is_send_unless_a_tenant_says_dry_run():
    assert TenantConfig().outbound == "send"
    with pytest.raises(ValueError, match="outbound"):
        TenantConfig.model_validate({"outbound": "dry-run"})
