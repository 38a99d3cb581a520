"""The whole local stack, with a throwaway functions dir standing in for functions/."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import firestore

from atende.devstack import stack as stack_module
from atende.devstack.processes import PortInUseError, free_port
from atende.devstack.stack import Stack, StackConfig, run_forever

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[2]
PHONE_ID = "106540352242922"

ECHO = """
import os

def echo(request):
    names = [n for n in os.environ if n.startswith(("ATENDE_", "WHATSAPP_", "DEVSTACK_"))]
    names += ["FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"]
    return {"path": request.url.path, "pid": os.getpid(), "cwd": os.getcwd(),
            "env": {n: os.environ[n] for n in names if n in os.environ}}
"""

# A worker-shaped function: checks our task header, records to Firestore, calls the
# provider sandbox the way the outbound worker will.
RELAY = """
import asyncio, json, os
import requests
from google.cloud import firestore

def _work(job):
    db = firestore.Client()
    try:
        db.collection("relayed").document(job["to"]).set({"text": job["text"]})
    finally:
        db.close()
    with requests.Session() as http:
        http.trust_env = False
        return http.post(
            f"{os.environ['ATENDE_WHATSAPP_API_BASE_URL']}/{job['phone_id']}/messages",
            headers={"Authorization": "Bearer " + os.environ["WHATSAPP_ACCESS_TOKEN"]},
            json={"messaging_product": "whatsapp", "to": job["to"], "type": "text",
                  "text": {"body": job["text"]}},
            timeout=10,
        ).status_code

async def relay(request):
    if request.headers.get("x-atende-task-secret") != os.environ["ATENDE_TASK_SECRET"]:
        return ("unauthorized", 401)
    status = await asyncio.to_thread(_work, json.loads(await request.body()))
    return ("sent", 200 if status == 200 else 503)
"""

CRASH = """
import os

def crash(request):
    os._exit(7)
"""


def _write_functions(root: Path) -> Path:
    for name, source in [("echo", ECHO), ("relay", RELAY), ("crash", CRASH)]:
        (root / name).mkdir(parents=True)
        (root / name / "main.py").write_text(source)
    return root


def _config(tmp: Path, **overrides: Any) -> StackConfig:
    fields: dict[str, Any] = {
        "repo_root": REPO,
        "run_dir": tmp / "run",
        "functions_dir": _write_functions(tmp / "functions"),
        "functions_port": free_port(),
        "firestore_port": free_port(),
        "tasks_port": free_port(),
        "sandbox_port": free_port(),
        "radicale_port": free_port(),
        "google_calendar_port": free_port(),
        "project": "devstack-stack-test",
        "whatsapp_access_token": "stack-test-token",
        "task_secret": "stack-task-secret",
        "extra_env": {"DEVSTACK_EXTRA": "from-config"},
        "queue_overrides": {
            queue: {"min_backoff_seconds": 0.05, "max_backoff_seconds": 0.2}
            for queue in ("inbound", "outbound")
        },
    }
    fields.update(overrides)
    return StackConfig(**fields)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    os.environ["ATENDE_DEVSTACK_LEAK"] = "must-not-reach-functions"
    try:
        with Stack(_config(tmp_path_factory.mktemp("stack"))) as running:
            yield running
    finally:
        del os.environ["ATENDE_DEVSTACK_LEAK"]


def _echo(stack: Stack) -> dict[str, Any]:
    with requests.Session() as http:
        response = http.get(stack.function_url("echo"), timeout=10)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def test_functions_get_the_stack_env_and_nothing_of_the_callers(stack: Stack) -> None:
    answer = _echo(stack)
    env = answer["env"]
    assert answer["path"] == "/echo/"
    assert answer["cwd"] == str(stack.run_dir)
    # The echo reports the ATENDE_/WHATSAPP_ variables (and a few more): each has the stack's value.
    echoed = {k: v for k, v in stack.client_env.items() if k.startswith(("ATENDE_", "WHATSAPP_"))}
    assert {k: env.get(k) for k in echoed} == echoed
    assert env["DEVSTACK_EXTRA"] == "from-config"
    assert "ATENDE_DEVSTACK_LEAK" not in env
    client_env = stack.client_env
    assert client_env["FIRESTORE_EMULATOR_HOST"] == stack.firestore.host
    assert client_env["ATENDE_TASKS_EMULATOR_HOST"] == stack.tasks.host
    assert client_env["ATENDE_FUNCTIONS_BASE_URL"] == stack.functions_url
    sandbox_port = stack.config.sandbox_port
    assert client_env["ATENDE_WHATSAPP_API_BASE_URL"] == (
        f"http://127.0.0.1:{sandbox_port}/graph/v23.0"
    )
    assert json.loads(client_env["ATENDE_WHATSAPP_TENANTS"]) == {PHONE_ID: "demo"}
    assert client_env["ATENDE_SECRETS_BACKEND"] == "env"
    assert client_env["ATENDE_TASK_AUTH"] == "shared-secret"
    assert client_env["ATENDE_TASK_SECRET"] == "stack-task-secret"
    assert client_env["WHATSAPP_ACCESS_TOKEN"] == "stack-test-token"
    banner = stack.banner()
    assert stack.function_url("relay") in banner
    assert stack.firestore.host in banner and stack.tasks.host in banner


def test_a_task_reaches_a_function_which_reaches_firestore_and_the_sandbox(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.reset()
    queue = stack.tasks.queue_path(stack.config.inbound_queue)
    job = {"phone_id": PHONE_ID, "to": "5511900000009", "text": "Oi"}
    stack.tasks.client.create_task(
        parent=queue,
        task={
            "http_request": {
                "url": stack.function_url("relay"),
                "headers": {"X-Atende-Task-Secret": stack.config.task_secret},
                "body": json.dumps(job).encode(),
            }
        },
    )
    recorded = stack.sandbox.wait_for_requests(1, timeout=20)
    assert recorded[0]["authorized"] is True
    assert recorded[0]["json"]["to"] == "5511900000009"
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", stack.firestore.host)
    db = firestore.Client(project=stack.config.project)
    try:
        assert db.collection("relayed").document("5511900000009").get().to_dict() == {"text": "Oi"}
        stack.reset()
        assert not db.collection("relayed").document("5511900000009").get().exists
    finally:
        db.close()
    assert stack.sandbox.requests() == []


def test_reset_purges_both_queues(stack: Stack) -> None:
    paths = [stack.tasks.queue_path(q) for q in stack.config.queues]
    for path in paths:
        stack.tasks.pause(path)
    try:
        for path in paths:
            url = stack.function_url("echo")
            stack.tasks.client.create_task(parent=path, task={"http_request": {"url": url}})
        assert [stack.tasks.count_tasks(p) for p in paths] == [1, 1]
        stack.reset()
        assert [stack.tasks.count_tasks(p) for p in paths] == [0, 0]
    finally:
        for path in paths:
            stack.tasks.resume(path)


def test_functions_server_comes_back_after_a_crash(stack: Stack) -> None:
    before = _echo(stack)["pid"]
    with requests.Session() as http, pytest.raises(requests.ConnectionError):
        http.post(stack.function_url("crash"), timeout=10)
    deadline = time.monotonic() + 20
    while stack.functions.restarts < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stack.wait_functions(30)
    assert _echo(stack)["pid"] != before


def test_restart_functions_with_other_settings_and_back(stack: Stack) -> None:
    stack.restart_functions({"DEVSTACK_EXTRA": "override", "ATENDE_TASK_AUTH": None})
    env = _echo(stack)["env"]
    assert env["DEVSTACK_EXTRA"] == "override"
    assert "ATENDE_TASK_AUTH" not in env
    stack.restart_functions()
    env = _echo(stack)["env"]
    assert env["DEVSTACK_EXTRA"] == "from-config"
    assert env["ATENDE_TASK_AUTH"] == "shared-secret"


def _refused(host_port: str) -> bool:
    try:
        urllib.request.urlopen(f"http://{host_port}/", timeout=2)
    except urllib.error.HTTPError:
        return False
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


def test_a_failed_start_stops_what_already_started(tmp_path: Path) -> None:
    broken_venv = tmp_path / "not-a-venv"
    broken_venv.write_text("the Cloud Tasks emulator venv cannot be built here")
    config = _config(tmp_path, tasks_venv=broken_venv)
    stack = Stack(config)
    with pytest.raises(RuntimeError, match="-m venv"):
        stack.start()
    assert stack.firestore.process is None
    assert _refused(f"127.0.0.1:{config.firestore_port}")
    assert not stack.functions.running and not stack.sandbox_process.running


def test_a_busy_port_stops_the_start_before_anything_runs(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", config.sandbox_port))
        squatter.listen()
        stack = Stack(config)
        with pytest.raises(PortInUseError, match=f"port {config.sandbox_port} .provider sandbox"):
            stack.start()
    assert stack.firestore.process is None and stack.tasks.process is None


class _FakeStack:
    entered = exited = False

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    def __enter__(self) -> _FakeStack:
        _FakeStack.entered = True
        return self

    def __exit__(self, *args: object) -> None:
        _FakeStack.exited = True

    def banner(self) -> str:
        return "fake banner"


def test_run_forever_stops_on_sigterm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(stack_module, "Stack", _FakeStack)
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    started = time.monotonic()
    banners: list[str] = []
    assert run_forever(StackConfig(repo_root=REPO, run_dir=tmp_path), banners.append) == 0
    timer.join()
    assert banners == ["fake banner"]
    assert _FakeStack.entered and _FakeStack.exited
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGTERM) == before
