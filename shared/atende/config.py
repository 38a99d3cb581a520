"""One typed settings object, read from the environment (and `.env` locally).

Secrets are not settings: they come through the `SecretSource` port (Secret Manager in the
cloud, the environment locally), resolved once per instance.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secret names, as environment variables locally and, lower-cased with dashes, as Secret
# Manager secret ids in the cloud (ATENDE_TASK_SECRET -> atende-task-secret). Each channel
# names its own secrets in its package.
TASK_SHARED_SECRET = "ATENDE_TASK_SECRET"  # noqa: S105 - a secret name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_", env_file=".env", extra="ignore", frozen=True
    )

    project: str = "atende-dev"
    location: str = "us-central1"
    inbound_queue: str = "atende-inbound"
    outbound_queue: str = "atende-outbound"
    #: Where worker functions are reachable: `<base>/<function name>`.
    functions_base_url: str = "http://127.0.0.1:8080"
    #: A worker function's own URL where it is not `<base>/<name>` (Cloud Run URLs, or one
    #: local process per function), as JSON: {"process_inbound": "https://…"}.
    function_urls: dict[str, str] = Field(default_factory=dict)
    #: host:port of a Cloud Tasks emulator; unset in the cloud.
    tasks_emulator_host: str | None = None
    #: How workers authenticate Cloud Tasks: OIDC in the cloud, a shared header locally.
    task_auth: Literal["oidc", "shared-secret"] = "oidc"
    #: The service account Cloud Tasks signs OIDC tokens as (and workers accept).
    tasks_service_account: str | None = None
    #: Private workers behind Cloud Run IAM receive the OIDC token with its signature removed
    #: (Cloud Run verified it); claims are still checked. Never enable on a public worker.
    task_oidc_platform_verified: bool = False
    secrets_backend: Literal["env", "secret-manager"] = "secret-manager"
    #: Local stack only: a JSON file of what each function may touch
    #: (`atende.deployment.grants()`), so a function reads only its declared secrets, as
    #: its own service account would in the cloud. Unset in the cloud, where IAM does it.
    local_grants_file: str | None = None

    max_body_bytes: int = Field(default=1_048_576, gt=0)
    #: Meta retries a delivery for days; a dedupe record must outlive that.
    dedupe_ttl_days: int = Field(default=7, ge=7)
    outbox_ttl_days: int = Field(default=30, ge=1)

    http_timeout_seconds: float = Field(default=10.0, gt=0)
    #: Provider HTTP tries inside one task attempt (the queue retries beyond that).
    send_max_tries: int = Field(default=3, ge=1, le=10)
    breaker_fail_max: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    #: A message is answered this long after it arrived, so messages a contact sent together
    #: are answered in the order they were written even when their tasks ran out of order.
    answer_hold_seconds: float = Field(default=1.0, ge=0)
    #: A burst is answered once its newest message has waited the hold; a contact who never
    #: pauses gets an answer once the oldest unanswered message has waited this long.
    answer_max_wait_seconds: float = Field(default=5.0, ge=0)
    #: A reply stops waiting for an earlier, still unsettled one after this long.
    reply_order_max_wait_seconds: float = Field(default=300.0, gt=0)
    #: Each queue's `max_attempts` (Cloud Tasks counts the first attempt; -1: unlimited), so
    #: a worker knows its last attempt and turns work that still fails into a dead letter.
    #: Terraform sets them from `var.queue_settings` (default 50).
    inbound_max_attempts: int = Field(default=50, ge=-1)
    outbound_max_attempts: int = Field(default=50, ge=-1)
    #: An answer task that keeps failing for a reason retrying cannot fix moves the message
    #: that fails into a dead letter after this many attempts, so the others are answered.
    poison_after_attempts: int = Field(default=3, ge=1)

    #: How long an instance reuses a tenant's configuration before reading it again.
    tenant_cache_seconds: float = Field(default=60.0, ge=0)

    #: Dev and test only: a JSON file naming a checkpoint at which the worker crashes once.
    fault_file: str | None = None
    log_level: str = "INFO"

    def queue_id(self, queue: Literal["inbound", "outbound"]) -> str:
        return self.inbound_queue if queue == "inbound" else self.outbound_queue

    def max_attempts(self, queue_name: str) -> int | None:
        """The `max_attempts` of the queue with this Cloud Tasks id; None for a queue we do
        not know (so no attempt of it is ever taken for the last)."""
        if queue_name == self.inbound_queue:
            return self.inbound_max_attempts
        if queue_name == self.outbound_queue:
            return self.outbound_max_attempts
        return None

    def queue_kind(self, queue_name: str) -> Literal["inbound", "outbound"] | None:
        if queue_name == self.inbound_queue:
            return "inbound"
        if queue_name == self.outbound_queue:
            return "outbound"
        return None

    def function_url(self, function_name: str) -> str:
        if function_name in self.function_urls:
            return self.function_urls[function_name]
        return f"{self.functions_base_url.rstrip('/')}/{function_name}"
