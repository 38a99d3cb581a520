"""The Cloud Tasks emulator refuses and retries like Cloud Tasks: IAM per calling function,
task names kept after their task ended, per-queue RetryConfig, the dispatch headers, and the
1 MB task limit. Against the real emulator process, with the project's google-cloud-tasks
client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest
from google.api_core.exceptions import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from google.cloud import tasks_v2

from atende.devstack.processes import free_port
from atende.devstack.queue_config import QueueRetryConfig, terraform_queue_settings
from atende.devstack.tasks_emulator import (
    IDENTITY_METADATA,
    MAX_TASK_BYTES,
    TasksEmulator,
    ensure_tasks_venv,
)

REPO = Path(__file__).resolve().parents[2]
PROJECT, LOCATION = "devstack-parity-test", "us-central1"
TOMBSTONE = 1.5
#: q-retry: 8 attempts; 0.04 s doubled twice (0.08, 0.16), then + 0.16 s a retry, capped at 0.6.
RETRY = QueueRetryConfig(
    max_attempts=8, min_backoff_seconds=0.04, max_backoff_seconds=0.6, max_doublings=2
)
RETRY_BACKOFFS = [0.04, 0.08, 0.16, 0.32, 0.48, 0.6, 0.6]
#: q-conn: retried quickly and forever.
FAST = QueueRetryConfig(
    max_attempts=-1, min_backoff_seconds=0.05, max_backoff_seconds=0.1, max_doublings=0
)
GRANTS = {"send_outbound": ["q-out"], "process_inbound": ["q-in", "q-out"]}


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    responded_at: float  # time.time() just before the answer was sent


class Target:
    """A local HTTP endpoint that answers each path with scripted statuses (then 204)."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.script: dict[str, list[int]] = {}
        self.always: dict[str, int] = {}
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with target.lock:
                    queued = target.script.get(self.path) or []
                    status = queued.pop(0) if queued else target.always.get(self.path, 204)
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    target.calls.append(Call(self.path, headers, body, time.time()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def calls_to(self, path: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.path == path]

    def wait_for(self, path: str, n: int, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(calls := self.calls_to(path)) < n:
            assert time.monotonic() < deadline, f"{path}: {len(calls)} of {n} calls"
            time.sleep(0.02)
        return calls

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    running = Target()
    yield running
    running.close()


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TasksEmulator]:
    venv = REPO / ".venv-tasks"
    ensure_tasks_venv(venv)
    emulator = TasksEmulator(
        free_port(), PROJECT, LOCATION, ["q-in", "q-out", "q-retry", "q-conn"],
        tmp_path_factory.mktemp("tasks-parity"), venv,
        max_retries=5, min_backoff=0.05, max_backoff=0.2,
        queue_configs={"q-retry": RETRY, "q-conn": FAST},
        grants=GRANTS, tombstone_seconds=TOMBSTONE,
    )  # fmt: skip
    with emulator:
        yield emulator


def _as(identity: str) -> list[tuple[str, str]]:
    return [(IDENTITY_METADATA, identity)]


def _task(url: str, body: bytes = b"{}", name: str | None = None) -> dict[str, object]:
    task: dict[str, object] = {"http_request": {"url": url, "body": body}}
    if name is not None:
        task["name"] = name
    return task


# -- IAM per function -----------------------------------------------------------------------


def test_a_function_creates_tasks_only_in_the_queues_granted_to_it(
    tasks: TasksEmulator, target: Target
) -> None:
    inbound, outbound = tasks.queue_path("q-in"), tasks.queue_path("q-out")
    url = target.url("/iam")
    tasks.client.create_task(parent=outbound, task=_task(url), metadata=_as("send_outbound"))
    with pytest.raises(PermissionDenied) as refused:
        tasks.client.create_task(parent=inbound, task=_task(url), metadata=_as("send_outbound"))
    assert refused.value.message == (
        'The principal (user or service account) lacks IAM permission "cloudtasks.tasks.create"'
        f' for the resource "{inbound}" (or the resource may not exist).'
    )
    # A function the grants do not name at all has no permission anywhere.
    with pytest.raises(PermissionDenied):
        tasks.client.create_task(parent=outbound, task=_task(url), metadata=_as("wa_webhook"))
    # The operator (the CLI, the tests): with its identity or none, allowed everything.
    tasks.client.create_task(parent=inbound, task=_task(url), metadata=_as("atende-cli"))
    tasks.client.create_task(parent=inbound, task=_task(url))
    target.wait_for("/iam", 3)
    # An enqueuer may not manage queues either.
    with pytest.raises(PermissionDenied, match=r"cloudtasks\.queues\.purge"):
        tasks.client.purge_queue(name=inbound, metadata=_as("process_inbound"))
    assert tasks.process is not None
    log = tasks.process.log_path.read_text()
    assert "WARNING" in log
    assert "identity send_outbound on queue q-in" in log
    assert "identity wa_webhook on queue q-out" in log


# -- task names after their task ended ------------------------------------------------------


def test_a_name_is_refused_while_its_task_waits_and_for_a_while_after_it_ran(
    tasks: TasksEmulator, target: Target
) -> None:
    queue = tasks.queue_path("q-in")
    name = f"{queue}/tasks/ran-once"
    tasks.pause(queue)
    try:
        tasks.client.create_task(parent=queue, task=_task(target.url("/ran"), b"1", name))
        with pytest.raises(AlreadyExists, match="Requested entity already exists"):
            tasks.client.create_task(parent=queue, task=_task(target.url("/ran"), b"2", name))
    finally:
        tasks.resume(queue)
    target.wait_for("/ran", 1)
    tasks.wait_empty(queue)
    ended = time.monotonic()
    with pytest.raises(AlreadyExists):
        tasks.client.create_task(parent=queue, task=_task(target.url("/ran"), b"3", name))
    with pytest.raises(NotFound, match="existed recently"):
        tasks.client.get_task(name=name)
    time.sleep(max(0.0, ended + TOMBSTONE + 0.3 - time.monotonic()))
    tasks.client.create_task(parent=queue, task=_task(target.url("/ran"), b"4", name))
    calls = target.wait_for("/ran", 2)
    assert [call.body for call in calls] == [b"1", b"4"]


def test_a_deleted_task_never_runs_and_its_name_is_refused_for_a_while(
    tasks: TasksEmulator, target: Target
) -> None:
    queue = tasks.queue_path("q-out")
    name = f"{queue}/tasks/deleted-once"
    tasks.pause(queue)
    try:
        tasks.client.create_task(parent=queue, task=_task(target.url("/deleted"), b"1", name))
        assert tasks.client.get_task(name=name).name == name
        tasks.client.delete_task(name=name)
        deleted = time.monotonic()
        assert tasks.list_tasks(queue) == []
        with pytest.raises(AlreadyExists):
            tasks.client.create_task(parent=queue, task=_task(target.url("/deleted"), b"2", name))
        with pytest.raises(NotFound):
            tasks.client.delete_task(name=name)
        time.sleep(max(0.0, deleted + TOMBSTONE + 0.3 - time.monotonic()))
        tasks.client.create_task(parent=queue, task=_task(target.url("/deleted"), b"3", name))
    finally:
        tasks.resume(queue)
    calls = target.wait_for("/deleted", 1)
    time.sleep(0.3)
    assert [call.body for call in target.calls_to("/deleted")] == [b"3"] == [calls[0].body]


# -- retries: RetryConfig per queue, and the headers of each attempt -------------------------


def test_a_failing_task_follows_its_queue_retry_config_then_is_deleted(
    tasks: TasksEmulator, target: Target
) -> None:
    target.always["/fails"] = 500
    queue = tasks.queue_path("q-retry")
    name = f"{queue}/tasks/always-fails"
    tasks.client.create_task(parent=queue, task=_task(target.url("/fails"), name=name))
    calls = target.wait_for("/fails", RETRY.max_attempts)
    tasks.wait_empty(queue)  # deleted after its last attempt: not listed, not running
    with pytest.raises(AlreadyExists):  # and its name is kept like a completed task's
        tasks.client.create_task(parent=queue, task=_task(target.url("/fails"), name=name))
    time.sleep(0.8)  # longer than the last backoff: no ninth attempt
    assert len(target.calls_to("/fails")) == RETRY.max_attempts

    attempts = range(RETRY.max_attempts)
    assert [c.headers["x-cloudtasks-taskretrycount"] for c in calls] == [str(n) for n in attempts]
    # Every attempt got an answer (a 500): each one counts as an execution.
    assert [c.headers["x-cloudtasks-taskexecutioncount"] for c in calls] == [
        str(n) for n in attempts
    ]
    assert {c.headers["x-cloudtasks-queuename"] for c in calls} == {"q-retry"}
    assert {c.headers["x-cloudtasks-taskname"] for c in calls} == {"always-fails"}
    assert "x-cloudtasks-taskpreviousresponse" not in calls[0].headers
    assert "x-cloudtasks-taskretryreason" not in calls[0].headers
    assert {c.headers["x-cloudtasks-taskpreviousresponse"] for c in calls[1:]} == {"500"}
    assert all(c.headers["x-cloudtasks-taskretryreason"] for c in calls[1:])
    # Each retry is scheduled (its ETA header) the backoff after the previous answer.
    delays = [
        float(later.headers["x-cloudtasks-tasketa"]) - earlier.responded_at
        for earlier, later in pairwise(calls)
    ]
    for retry, (delay, expected) in enumerate(zip(delays, RETRY_BACKOFFS, strict=True), 1):
        assert expected - 0.01 <= delay <= expected + 0.08, (retry, delays)


def test_attempts_that_got_no_response_are_retried_but_are_not_executions(
    tasks: TasksEmulator,
) -> None:
    port = free_port()
    queue = tasks.queue_path("q-conn")
    task = _task(f"http://127.0.0.1:{port}/late", name=f"{queue}/tasks/nobody-home")
    tasks.client.create_task(parent=queue, task=task)
    time.sleep(0.5)  # several attempts, each refused: no response at all
    late = Target(port)
    try:
        late.script["/late"] = [503]
        first, second = late.wait_for("/late", 2)
    finally:
        late.close()
    refused = int(first.headers["x-cloudtasks-taskretrycount"])
    assert refused >= 2
    assert first.headers["x-cloudtasks-taskexecutioncount"] == "0"
    assert "x-cloudtasks-taskpreviousresponse" not in first.headers  # none came
    assert first.headers["x-cloudtasks-taskretryreason"]
    assert second.headers["x-cloudtasks-taskretrycount"] == str(refused + 1)
    assert second.headers["x-cloudtasks-taskexecutioncount"] == "1"
    assert second.headers["x-cloudtasks-taskpreviousresponse"] == "503"
    tasks.wait_empty(queue)


def test_a_redirect_is_a_failed_attempt_not_followed(tasks: TasksEmulator, target: Target) -> None:
    target.script["/moved"] = [302]
    queue = tasks.queue_path("q-in")
    tasks.client.create_task(parent=queue, task=_task(target.url("/moved")))
    calls = target.wait_for("/moved", 2)
    assert calls[1].headers["x-cloudtasks-taskpreviousresponse"] == "302"
    tasks.wait_empty(queue)


# -- task size ------------------------------------------------------------------------------


def _task_of_size(url: str, size: int) -> tasks_v2.Task:
    task = tasks_v2.Task(http_request={"url": url, "body": b"x" * (size - 100)})
    padding = size - len(tasks_v2.Task.serialize(task))
    task = tasks_v2.Task(http_request={"url": url, "body": b"x" * (size - 100 + padding)})
    assert len(tasks_v2.Task.serialize(task)) == size
    return task


def test_a_task_over_one_megabyte_is_refused_and_one_at_the_limit_accepted(
    tasks: TasksEmulator, target: Target
) -> None:
    queue = tasks.queue_path("q-out")
    tasks.pause(queue)
    try:
        with pytest.raises(InvalidArgument, match="Task size too large"):
            tasks.client.create_task(
                parent=queue, task=_task_of_size(target.url("/big"), MAX_TASK_BYTES + 1)
            )
        assert tasks.count_tasks(queue) == 0
        tasks.client.create_task(
            parent=queue, task=_task_of_size(target.url("/big"), MAX_TASK_BYTES)
        )
        assert tasks.count_tasks(queue) == 1
        tasks.purge(queue)
    finally:
        tasks.resume(queue)


# -- the retry settings Terraform gives the queues ------------------------------------------


def test_queue_settings_are_read_from_terraform_with_overrides(tmp_path: Path) -> None:
    variables = tmp_path / "variables.tf"
    variables.write_text(
        'variable "queue_settings" {\n'
        "  type = map(object({ max_attempts = number }))\n"
        "  default = {\n"
        "    inbound  = { max_dispatches_per_second = 100, max_concurrent_dispatches = 150,"
        " max_attempts = 50, min_backoff_seconds = 1, max_backoff_seconds = 300,"
        " max_doublings = 4 }\n"
        "    outbound = { max_dispatches_per_second = 60, max_concurrent_dispatches = 100,"
        " max_attempts = 20, min_backoff_seconds = 0.5, max_backoff_seconds = 60,"
        " max_doublings = 3 }\n"
        "  }\n"
        "}\n"
    )
    settings = terraform_queue_settings(variables, overrides={"inbound": {"max_attempts": 3}})
    assert settings == {
        "inbound": QueueRetryConfig(
            max_attempts=3, min_backoff_seconds=1, max_backoff_seconds=300, max_doublings=4
        ),
        "outbound": QueueRetryConfig(
            max_attempts=20, min_backoff_seconds=0.5, max_backoff_seconds=60, max_doublings=3
        ),
    }
    with pytest.raises(ValueError, match="no queue 'elsewhere'"):
        terraform_queue_settings(variables, overrides={"elsewhere": {"max_attempts": 3}})
    # The project's own Terraform: both queues, with retry settings the emulator accepts.
    assert sorted(terraform_queue_settings()) == ["inbound", "outbound"]
