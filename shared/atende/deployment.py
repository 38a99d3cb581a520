"""What is deployed, declared by the code itself: every function, its kind, the secrets it
reads and the queues it enqueues to. `infra/` must match it both ways (a test parses the
Terraform and checks), and the local stack lets each function touch only this.

- a **webhook** per channel with a connector (public: providers call it);
- the **workers** `process_inbound` and `send_outbound` (private: Cloud Tasks only);
- a **job** per scheduled channel job (private: Cloud Scheduler only);
- the **agent** API `agent_reply` (agent API tokens, stored as hashes in Firestore).

Each hop declares its queues next to the code that enqueues (`ENQUEUES` in its module), and
each channel its secrets and its jobs' queues in its plugin (`wiring.PLUGIN`,
channels/plugin.py); this module only gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from atende.ai.settings import AI_API_KEY
from atende.channels.registry import plugins
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


def functions() -> list[FunctionSpec]:
    """Every function the code expects to be deployed, sorted by name."""
    # Imported here: the hops' code is only read for its declaration, by the CLI and tests.
    from atende.agent_reply.desk import ENQUEUES as AGENT_QUEUES
    from atende.process_inbound.processor import ENQUEUES as PROCESS_QUEUES
    from atende.send_outbound.sender import ENQUEUES as SEND_QUEUES
    from atende.webhook.edge import ENQUEUES as WEBHOOK_QUEUES

    specs: list[FunctionSpec] = []
    process: set[str] = {AI_API_KEY}
    send: set[str] = set()
    for channel in plugins():
        if channel.connector is not None:
            webhook = f"{channel.name}_webhook"
            specs.append(FunctionSpec(webhook, "webhook", channel.webhook_secrets, WEBHOOK_QUEUES))
        send.update(channel.send_secrets)
        process.update(channel.process_secrets)
        specs.extend(FunctionSpec(job.name, "job", job.secrets, job.queues) for job in channel.jobs)
    specs.append(FunctionSpec(PROCESS_INBOUND, "worker", frozenset(process), PROCESS_QUEUES))
    specs.append(FunctionSpec(SEND_OUTBOUND, "worker", frozenset(send), SEND_QUEUES))
    specs.append(FunctionSpec(AGENT_REPLY, "agent", frozenset(), AGENT_QUEUES))
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
