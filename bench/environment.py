"""The settings and secrets every benchmarked function gets (secrets from the environment,
as locally; tasks authenticated with the shared header)."""

from __future__ import annotations

import json

from bench import deliveries

PROJECT = "atende-bench"
LOCATION = "us-central1"
INBOUND_QUEUE, OUTBOUND_QUEUE = "atende-inbound", "atende-outbound"
TASK_SECRET = "bench-task-secret"


def function_env(
    *, tasks_host: str, functions: dict[str, str], firestore_host: str | None = None,
    sandbox_url: str | None = None, log_level: str = "INFO",
) -> dict[str, str]:  # fmt: skip
    """`functions` maps each worker function name to its URL."""
    env = {
        "ATENDE_PROJECT": PROJECT,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "ATENDE_LOCATION": LOCATION,
        "ATENDE_INBOUND_QUEUE": INBOUND_QUEUE,
        "ATENDE_OUTBOUND_QUEUE": OUTBOUND_QUEUE,
        "ATENDE_TASKS_EMULATOR_HOST": tasks_host,
        "ATENDE_FUNCTION_URLS": json.dumps(functions),
        "ATENDE_SECRETS_BACKEND": "env",
        "ATENDE_TASK_AUTH": "shared-secret",
        "ATENDE_TASK_SECRET": TASK_SECRET,
        "ATENDE_LOG_LEVEL": log_level,
        "ATENDE_WHATSAPP_TENANTS": json.dumps({deliveries.PHONE_NUMBER_ID: "bench"}),
        "WHATSAPP_APP_SECRET": deliveries.APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
        "WHATSAPP_ACCESS_TOKEN": "bench-access-token",
    }
    if firestore_host:
        env["FIRESTORE_EMULATOR_HOST"] = firestore_host
    if sandbox_url:
        env["ATENDE_WHATSAPP_API_BASE_URL"] = f"{sandbox_url}/graph/v23.0"
    return env
