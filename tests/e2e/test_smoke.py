"""`atende smoke` against the running local stack: every check passes on a healthy stack, and
a worker/job refusing its caller fails the command with a message that says so."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atende.deployment import functions
from atende.smoke.delivery import DEV_SMOKE_ACCOUNT, SMOKE_TENANT

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def smoke_stack(stack):
    """The stack with the smoke tenant's WhatsApp account mapped, as `make dev` has it."""
    stack.reset()
    tenants = {**stack.config.whatsapp_tenants, DEV_SMOKE_ACCOUNT: SMOKE_TENANT}
    env = {"ATENDE_WHATSAPP_TENANTS": json.dumps(tenants)}
    stack.restart_functions(env)
    yield stack, env
    stack.restart_functions()


def run_smoke(stack, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **stack.client_env}
    command = [sys.executable, "-m", "atende.cli.main", "smoke", "--timeout", "60",
               "--log-file", str(stack.run_dir / "functions.log")]  # fmt: skip
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def outbox(stack):
    from google.cloud import firestore

    os.environ["FIRESTORE_EMULATOR_HOST"] = stack.firestore.host
    client = firestore.Client(project=stack.config.project)
    try:
        return [snap.to_dict() for snap in client.collection("outbox").stream()]
    finally:
        client.close()


def test_smoke_passes_against_the_local_stack_and_sends_nothing(smoke_stack, tmp_path):
    stack, _ = smoke_stack
    seen = len(stack.sandbox.requests())
    result = run_smoke(stack, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    webhooks = [spec.name for spec in functions() if spec.kind == "webhook"]
    for name in webhooks:
        assert any(line.startswith(f"ok    webhook {name}: refuses an unsigned") for line in lines)
    whatsapp = next(line for line in lines if "webhook whatsapp_webhook" in line)
    assert "answers the right one" in whatsapp
    assert any(line.startswith("ok    delivery to send_outbound (dry run)") for line in lines)
    assert any(line.startswith("ok    scheduled job youtube_renew") for line in lines)
    assert any(line.startswith("ok    workers' logs") for line in lines)
    assert lines[-1].startswith("smoke check passed")
    # The replies went the whole way and were recorded as dry runs; the provider saw none.
    records = [r for r in outbox(stack) if r["tenant_id"] == SMOKE_TENANT]
    assert records and all(r["status"] == "sent" for r in records)
    assert all(r["last_call"] == "not_called" and r["history"][-1]["detail"] == "dry_run"
               for r in records)  # fmt: skip
    assert all(r["provider_message_id"] is None for r in records)
    # Nothing reached the WhatsApp API (only the job's WebSub renewal reached the sandbox).
    paths = [request["path"] for request in stack.sandbox.requests()[seen:]]
    assert [path for path in paths if "/graph/" in path] == [], paths


def test_smoke_fails_clearly_when_a_caller_is_refused(smoke_stack, tmp_path):
    stack, env = smoke_stack
    # The functions now expect another task secret than the one the runner (the scheduler's
    # stand-in) sends: the job refuses it, and its refusal is in the logs.
    stack.restart_functions({**env, "ATENDE_TASK_SECRET": "not-the-runners-secret"})
    result = run_smoke(stack, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "FAIL  scheduled job youtube_renew: answered 401" in out
    assert "the job refused the scheduler's OIDC token" in out
    assert "FAIL  workers' logs: " in out
    assert "caller refused (wrong_token)" in out
    assert "smoke check FAILED" in out.splitlines()[-1]
