"""End-to-end fixtures: the whole local stack (emulators, sandbox, functions) for the session,
reset before every test, and a small driver that speaks WhatsApp to it."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from atende.adapters.firestore.agent_tokens import register_dev_token
from atende.channels.graph.signature import signature_for
from atende.channels.whatsapp import sample
from atende.devstack.processes import free_port
from atende.devstack.stack import Stack, StackConfig
from atende.domain import keys
from atende.tenants.tenant_config import TenantConfig

REPO = Path(__file__).resolve().parents[2]
APP_SECRET = "e2e-app-secret"
#: Registered for the `demo` tenant only, before every test (the stack's reset wipes it).
AGENT_TOKEN = "e2e-agent-token"
HOLD_SECONDS = 1.0
RETRIES_FOR_TESTS = {
    "max_attempts": 100,
    "min_backoff_seconds": 0.1,
    "max_backoff_seconds": 1.0,
    "max_doublings": 16,
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("stack")
    config = StackConfig(
        repo_root=REPO,
        run_dir=run_dir,
        project="atende-e2e",
        functions_port=free_port(),
        firestore_port=free_port(),
        tasks_port=free_port(),
        sandbox_port=free_port(),
        whatsapp_app_secret=APP_SECRET,
        agent_token=AGENT_TOKEN,
        ai_sandbox_port=free_port(),
        radicale_port=free_port(),
        google_calendar_port=free_port(),
        # Many quick retries: tests wait for replies that retry past holds, breakers and
        # earlier replies; a test that needs a last attempt sets the functions' max attempts.
        queue_overrides={queue: RETRIES_FOR_TESTS for queue in ("inbound", "outbound")},
        extra_env={
            # Tests change a tenant's configuration between messages.
            "ATENDE_TENANT_CACHE_SECONDS": "0",
            "ATENDE_AI_TIMEOUT_SECONDS": "2",
            "ATENDE_FAULT_FILE": str(run_dir / "fault.json"),
            "ATENDE_ANSWER_HOLD_SECONDS": str(HOLD_SECONDS),
            "ATENDE_BREAKER_FAIL_MAX": "4",
            "ATENDE_BREAKER_RESET_SECONDS": "4",
        },
    )
    with Stack(config) as running:
        yield running


class WhatsApp:
    """Drives the running stack like Meta does, and reads what it stored and sent."""

    def __init__(self, stack: Stack, db) -> None:
        self.stack = stack
        self.db = db
        self.url = stack.function_url("whatsapp_webhook")
        self.fault_file = Path(stack.config.extra_env["ATENDE_FAULT_FILE"])

    def post(
        self, body: bytes, signature: str | None = "valid", **headers: str
    ) -> requests.Response:
        sent = {"content-type": "application/json", **headers}
        if signature == "valid":
            sent["x-hub-signature-256"] = signature_for(body, APP_SECRET)
        elif signature is not None:
            sent["x-hub-signature-256"] = signature
        return requests.post(self.url, data=body, headers=sent, timeout=30)

    def say(self, contact: str, *texts: str, start: int = 1_800_000_000) -> list[str]:
        """Post one delivery per text; returns the message ids."""
        ids = []
        for offset, text in enumerate(texts):
            message = sample.text_message(contact, text, timestamp=start + offset)
            assert self.post(sample.encode(sample.delivery([message]))).status_code == 200
            ids.append(message["id"])
        return ids

    def replies(self) -> list[dict]:
        return [request["json"] for request in self.stack.sandbox.requests()]

    def wait_replies(self, count: int, timeout: float = 30.0, settle: float = 2.0) -> list[dict]:
        """Wait for `count` replies, then a little longer, so an extra one would show."""
        self.stack.sandbox.wait_for_requests(count, timeout)
        time.sleep(settle)
        return self.replies()

    def session(self, contact: str, tenant: str = "demo") -> dict | None:
        snapshot = (
            self.db.collection("sessions")
            .document(keys.session_id(tenant, "whatsapp", contact))
            .get()
        )
        return snapshot.to_dict() if snapshot.exists else None

    def outbox(self) -> list[dict]:
        records = [snap.to_dict() for snap in self.db.collection("outbox").stream()]
        return sorted(records, key=lambda record: (record["session_id"], record["order_key"]))

    def audit(self) -> list[dict]:
        # One audit document per commit: its entries, flattened.
        return [
            entry
            for snap in self.db.collection("audit").stream()
            for entry in snap.to_dict()["entries"]
        ]

    def set_tenant(self, tenant: str = "demo", **config) -> None:
        """Store a tenant configuration (validated first, like `atende tenant set`)."""
        document = TenantConfig.model_validate(config).model_dump(mode="json")
        self.db.collection("tenants").document(tenant).set(document)

    def agent(
        self,
        action: str,
        contact: str,
        request_id: str,
        text: str | None = None,
        tenant: str = "demo",
        token: str = AGENT_TOKEN,
    ) -> requests.Response:
        command = {
            "action": action,
            "tenant_id": tenant,
            "session_id": keys.session_id(tenant, "whatsapp", contact),
            "request_id": request_id,
            "agent_id": "agent-7",
            **({"text": text} if text is not None else {}),
        }
        return requests.post(
            self.stack.function_url("agent_reply"),
            json=command,
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )

    def handoff(self, contact: str, tenant: str = "demo") -> dict | None:
        snapshot = (
            self.db.collection("handoffs")
            .document(keys.session_id(tenant, "whatsapp", contact))
            .get()
        )
        return snapshot.to_dict() if snapshot.exists else None

    def replies_to(self, contact: str) -> list[str]:
        return [r["text"]["body"] for r in self.replies() if r["to"] == contact and "text" in r]

    def crash_once_at(self, checkpoint: str) -> None:
        self.fault_file.write_text(json.dumps({"crash_at": checkpoint}))

    def wait_until(self, predicate, timeout: float = 120.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"timed out waiting for {what}")

    def post_concurrently(self, bodies: list[bytes], stagger: float = 0.0) -> list[int]:
        statuses: list[int] = [0] * len(bodies)

        def post(index: int, body: bytes) -> None:
            time.sleep(stagger * index)
            statuses[index] = self.post(body).status_code

        threads = [threading.Thread(target=post, args=item) for item in enumerate(bodies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return statuses


@pytest.fixture
def whatsapp(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[WhatsApp]:
    from google.cloud import firestore

    stack.reset()
    Path(stack.config.extra_env["ATENDE_FAULT_FILE"]).unlink(missing_ok=True)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", stack.firestore.host)
    client = firestore.Client(project=stack.config.project)
    register_dev_token(client, AGENT_TOKEN, ["demo"], label="e2e")
    yield WhatsApp(stack, client)
    client.close()
