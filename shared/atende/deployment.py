"""What is deployed, declared by the code itself: every function, its kind, the secrets it
reads and the queues it enqueues to. `infra/` must match it both ways (a test parses the
Terraform and checks), and the local stack lets each function touch only this.

- a **webhook** per channel with a connector (public: providers call it);
- the **workers** `process_inbound` and `send_outbound` (private: Cloud Tasks only);
- a **job** per scheduled channel job (private: Cloud Scheduler only);
- the **agent** API `agent_reply` (agent API tokens, stored as hashes in Firestore).

Each hop declares its queues next to the code that enqueues (`ENQUEUES` in its pipeline
module, `QUEUES` in a channel's wiring for its jobs); this module only gathers them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

from atende.ai.settings import AI_API_KEY
from atende.channels.registry import channel_names
from atende.ports import QueueName
from atende.tasks.contracts import PROCESS_INBOUND, SEND_OUTBOUND

FunctionKind = Literal["webhook", "worker", "job", "agent"]
AGENT_REPLY = "agent_reply"
#: The identity of whoever operates the project (the CLI, tests): not a function.
OPERATOR = "atende-cli"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    kind: FunctionKind
    secrets: frozenset[str]
    #: The queues it may create tasks in (Terraform grants it `cloudtasks.enqueuer` on each).
    queues: frozenset[QueueName] = frozenset()


def _hop_queues(module: str) -> frozenset[QueueName]:
    declared: frozenset[QueueName] = importlib.import_module(module).ENQUEUES
    return declared


def functions() -> list[FunctionSpec]:
    """Every function the code expects to be deployed, sorted by name."""
    specs: list[FunctionSpec] = []
    process: set[str] = {AI_API_KEY}
    send: set[str] = set()
    for channel in channel_names():
        wiring = importlib.import_module(f"atende.channels.{channel}.wiring")
        secrets: dict[str, tuple[str, ...]] = dict(getattr(wiring, "SECRETS", {}))
        job_queues: dict[str, frozenset[QueueName]] = dict(getattr(wiring, "QUEUES", {}))
        if hasattr(wiring, "connector"):
            specs.append(
                FunctionSpec(
                    f"{channel}_webhook",
                    "webhook",
                    frozenset(secrets.get("webhook", ())),
                    _hop_queues("atende.webhook.edge"),
                )
            )
        send.update(secrets.get("send", ()))
        process.update(secrets.get("process", ()))
        jobs = set(secrets) - {"webhook", "send", "process"}
        undeclared = jobs ^ set(job_queues)
        if undeclared:
            raise AssertionError(
                f"channel {channel}: declare both SECRETS and QUEUES for its jobs "
                f"({sorted(undeclared)})"
            )
        for job in sorted(jobs):
            specs.append(FunctionSpec(job, "job", frozenset(secrets[job]), job_queues[job]))
    specs.append(
        FunctionSpec(
            PROCESS_INBOUND,
            "worker",
            frozenset(process),
            _hop_queues("atende.process_inbound.processor"),
        )
    )
    specs.append(
        FunctionSpec(
            SEND_OUTBOUND, "worker", frozenset(send), _hop_queues("atende.send_outbound.sender")
        )
    )
    specs.append(
        FunctionSpec(
            AGENT_REPLY,
            "agent",
            frozenset(),
            _hop_queues("atende.agent_reply.desk"),
        )
    )
    return sorted(specs, key=lambda spec: spec.name)


def grants(specs: list[FunctionSpec] | None = None) -> dict[str, dict[str, list[str]]]:
    """What each function may touch, as JSON for the local stack:
    `{function: {"secrets": [...], "queues": ["inbound", ...]}}`."""
    return {
        spec.name: {"secrets": sorted(spec.secrets), "queues": sorted(spec.queues)}
        for spec in (functions() if specs is None else specs)
    }


def secret_id(name: str) -> str:
    """The Secret Manager id of a secret: `WHATSAPP_APP_SECRET` → `whatsapp-app-secret`."""
    return name.lower().replace("_", "-")
