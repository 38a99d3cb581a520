"""What is deployed, declared by the code itself: every function, its kind, and the secrets
it reads. `infra/` must match it; a test parses the Terraform and checks.

- a **webhook** per channel with a connector (public: providers call it);
- the **workers** `process_inbound` and `send_outbound` (private: Cloud Tasks only);
- a **job** per scheduled channel job (private: Cloud Scheduler only);
- the **agent** API `agent_reply` (its own Bearer token).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

from atende.adapters.agent_auth import AGENT_API_TOKEN
from atende.ai.settings import AI_API_KEY
from atende.channels.registry import channel_names
from atende.pipeline.tasks import PROCESS_INBOUND, SEND_OUTBOUND

FunctionKind = Literal["webhook", "worker", "job", "agent"]
AGENT_REPLY = "agent_reply"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: FunctionKind
    secrets: frozenset[str]


def _channel_secrets() -> dict[str, dict[str, tuple[str, ...]]]:
    found = {}
    for channel in channel_names():
        wiring = importlib.import_module(f"atende.channels.{channel}.wiring")
        found[channel] = dict(getattr(wiring, "SECRETS", {}))
    return found


def functions() -> list[FunctionSpec]:
    """Every function the code expects to be deployed, sorted by name."""
    by_channel = _channel_secrets()
    specs: list[FunctionSpec] = []
    process: set[str] = {AI_API_KEY}
    send: set[str] = set()
    for channel, secrets in by_channel.items():
        wiring = importlib.import_module(f"atende.channels.{channel}.wiring")
        if hasattr(wiring, "connector"):
            specs.append(
                FunctionSpec(f"{channel}_webhook", "webhook", frozenset(secrets.get("webhook", ())))
            )
        send.update(secrets.get("send", ()))
        process.update(secrets.get("process", ()))
        for job, needed in secrets.items():
            if job not in ("webhook", "send", "process"):
                specs.append(FunctionSpec(job, "job", frozenset(needed)))
    specs.append(FunctionSpec(PROCESS_INBOUND, "worker", frozenset(process)))
    specs.append(FunctionSpec(SEND_OUTBOUND, "worker", frozenset(send)))
    specs.append(FunctionSpec(AGENT_REPLY, "agent", frozenset({AGENT_API_TOKEN})))
    return sorted(specs, key=lambda spec: spec.name)


def secret_id(name: str) -> str:
    """The Secret Manager id of a secret: `WHATSAPP_APP_SECRET` → `whatsapp-app-secret`."""
    return name.lower().replace("_", "-")
