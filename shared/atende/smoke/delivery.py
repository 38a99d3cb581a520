"""A signed delivery for the smoke tenant, followed through process_inbound and
send_outbound to its replies, which the tenant's `outbound: dry_run` keeps from the provider.

The whole path runs as in production (webhook → Cloud Tasks → process_inbound → Cloud Tasks
→ send_outbound, with the real task authentication between them); send_outbound builds and
validates the provider request and records the reply `sent` with the dry-run marks
(send_outbound/decisions.py) instead of sending it.
"""

from __future__ import annotations

import secrets as random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from pydantic import ValidationError

from atende.channels.whatsapp import sample
from atende.domain import keys
from atende.errors import ConfigurationError
from atende.ports import SecretSource
from atende.send_outbound.decisions import DRY_RUN
from atende.smoke.http import Http
from atende.smoke.result import CheckResult, failed, passed
from atende.tenants.tenant_config import TenantConfig

CHECK = "delivery to send_outbound (dry run)"
CHANNEL = "whatsapp"
#: The smoke tenant's defaults: its id, and the WhatsApp phone number id `make dev` maps to
#: it. In the cloud, map an id of your choice to it in `channel_accounts` (docs/deploy.md);
#: nothing is ever sent from it.
SMOKE_TENANT = "smoke"
DEV_SMOKE_ACCOUNT = "100000000000000"
#: The contact the smoke delivery comes from (a number nobody has: nothing is sent anyway).
DEFAULT_SMOKE_CONTACT = "5500000000000"
#: What the smoke command stores when the smoke tenant has no configuration:
#: docs/examples/tenant-smoke.json, which a unit test keeps equal to this.
SMOKE_CONFIG = TenantConfig(outbound="dry_run", session_retention_days=31)


@dataclass(frozen=True)
class SmokeTarget:
    tenant_id: str = SMOKE_TENANT
    account: str = DEV_SMOKE_ACCOUNT
    contact: str = DEFAULT_SMOKE_CONTACT


class TenantStore(Protocol):
    def load(self, tenant_id: str) -> dict[str, Any] | None: ...

    def save(self, tenant_id: str, config: TenantConfig) -> None: ...


class OutboxReader(Protocol):
    def for_session(self, session_id: str) -> list[dict[str, Any]]:
        """The outbox records of a session, as stored."""
        ...


class SmokeTenantError(Exception):
    """The smoke tenant's stored configuration would let a smoke reply reach a contact."""


def ensure_smoke_tenant(store: TenantStore, tenant_id: str) -> str:
    """Store SMOKE_CONFIG unless the tenant has a configuration; refuse one that sends."""
    document = store.load(tenant_id)
    if document is None:
        store.save(tenant_id, SMOKE_CONFIG)
        return "stored its dry-run configuration"
    try:
        config = TenantConfig.model_validate(document)
    except ValidationError:
        raise SmokeTenantError(
            f"tenant {tenant_id}'s stored configuration is invalid, so the defaults (which "
            "send) would apply"
        ) from None
    if config.outbound != DRY_RUN:
        raise SmokeTenantError(f"tenant {tenant_id}'s stored configuration has outbound "
                               f"{config.outbound!r}, not 'dry_run'")  # fmt: skip
    return "its configuration is dry-run"


def is_dry_run_sent(record: dict[str, Any]) -> bool:
    """A stored record settled by a dry run (send_decision.is_dry_run, on the document)."""
    history = record.get("history") or []
    last = history[-1] if history and isinstance(history[-1], dict) else {}
    return (
        record.get("status") == "sent"
        and record.get("last_call") == "not_called"
        and last.get("detail") == DRY_RUN
    )


@dataclass
class DeliveryCheck:
    http: Http
    base_url: str
    secrets: SecretSource
    tenants: TenantStore
    outbox: OutboxReader
    target: SmokeTarget
    timeout: float = 90.0
    poll_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    def run(self) -> CheckResult:
        try:
            ensured = ensure_smoke_tenant(self.tenants, self.target.tenant_id)
        except SmokeTenantError as error:
            return failed(CHECK, f"refused to run: {error}",
                          "A smoke reply could reach a real contact. Store "
                          "docs/examples/tenant-smoke.json for it (atende tenant set), or "
                          "choose another --tenant.")  # fmt: skip
        except Exception as error:  # the store's own errors: unreachable, not allowed
            return failed(CHECK, f"cannot read or store tenant {self.target.tenant_id}'s "
                          f"configuration ({type(error).__name__})",
                          "A runner that may only read Firestore needs the smoke tenant stored "
                          "once: atende tenant set docs/examples/tenant-smoke.json "
                          "(docs/deploy.md).")  # fmt: skip
        message_id = f"wamid.smoke{random.token_hex(12)}"
        text = f"smoke check {random.token_hex(4)}"  # a new text each run: no repeat limit
        body = sample.encode(
            sample.delivery(
                [sample.text_message(self.target.contact, text, message_id=message_id)],
                phone_number_id=self.target.account,
            )
        )
        try:
            headers = sample.signed_headers(body, self.secrets)
        except ConfigurationError as error:
            return failed(CHECK, f"cannot sign the delivery: {error}",
                          "The runner reads the WhatsApp app secret to sign like Meta: give "
                          "it secretAccessor on whatsapp-app-secret (docs/deploy.md).")  # fmt: skip
        url = f"{self.base_url}/{CHANNEL}_webhook"
        try:
            answer = self.http.request("POST", url, body=body, headers=headers)
        except requests.RequestException as error:
            return failed(CHECK, f"no answer from {url} ({type(error).__name__})",
                          "Is the webhook deployed and the base URL right?")  # fmt: skip
        if answer.status != 200:
            return failed(CHECK, f"the signed smoke delivery got {answer.status}, not 200",
                          "401: the runner's app secret is not the webhook's (a new secret "
                          "version not yet picked up?); 503: enqueueing to the inbound "
                          "queue failed (the webhook's cloudtasks.enqueuer grant, the "
                          "queue). Look at the webhook's logs.")  # fmt: skip
        return self._follow(keys.session_id(self.target.tenant_id, CHANNEL,
                                            self.target.contact), message_id, ensured)  # fmt: skip

    def _follow(self, session_id: str, message_id: str, ensured: str) -> CheckResult:
        deadline = self.monotonic() + self.timeout
        replies: list[dict[str, Any]] = []
        while True:
            replies = [
                record
                for record in self.outbox.for_session(session_id)
                if record.get("inbound_event_id") == message_id
            ]
            real = [r for r in replies if r.get("status") == "sent" and not is_dry_run_sent(r)]
            if real:
                return failed(CHECK, f"{len(real)} smoke repl(ies) were really SENT",
                              "The smoke tenant's configuration must say outbound: dry_run, "
                              "and send_outbound must be this version. Stop running the "
                              "smoke check until fixed.")  # fmt: skip
            if replies and all(is_dry_run_sent(r) for r in replies):
                return passed(CHECK, f"tenant {self.target.tenant_id} ({ensured}): the signed "
                              f"delivery was processed and its {len(replies)} repl(ies) built, "
                              "validated and recorded sent as a dry run")  # fmt: skip
            stuck = [r for r in replies if r.get("status") in
                     ("failed", "dead_lettered", "needs_review", "suppressed")]  # fmt: skip
            if stuck:
                states = ", ".join(sorted({f"{r.get('status')} ({r.get('last_error')})"
                                           for r in stuck}))  # fmt: skip
                return failed(CHECK, f"a smoke reply ended {states}",
                              "send_outbound could not build or validate the provider "
                              "request: look at its logs (outcome, error) and its secrets "
                              "(the channel's access token).")  # fmt: skip
            if self.monotonic() >= deadline:
                break
            self.sleep(self.poll_seconds)
        if not replies:
            return failed(CHECK, f"no reply was queued within {self.timeout:g} s",
                          "process_inbound did not process the delivery. Check that "
                          f"channel_accounts maps whatsapp account {self.target.account} to "
                          f"tenant {self.target.tenant_id}, the inbound queue (tasks "
                          "waiting, retrying), and process_inbound's logs for 'caller "
                          "refused' (an OIDC audience or invoker problem).")  # fmt: skip
        states = ", ".join(sorted({str(r.get("status")) for r in replies}))
        return failed(
            CHECK,
            f"the smoke replies are still {states} after {self.timeout:g} s",
            "send_outbound did not settle them. Check the outbound queue and "
            "send_outbound's logs for 'caller refused' or 'transient failure'.",
        )
