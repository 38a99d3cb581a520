"""The Cloud Tasks emulator (own virtualenv, bound to loopback) with the real client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from google.api_core.exceptions import AlreadyExists

from atende.devstack.processes import free_port
from atende.devstack.tasks_emulator import TasksEmulator, ensure_tasks_venv

REPO = Path(__file__).resolve().parents[2]
PROJECT, LOCATION = "devstack-tasks-test", "us-central1"


class Target:
    """A local HTTP endpoint that records what the emulator dispatches to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_first: dict[str, int] = {}
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                target.calls.append((self.path, headers, body))
                left = target.fail_first.get(self.path, 0)
                target.fail_first[self.path] = left - 1
                if self.path == "/slow" and len(target.calls_to("/slow")) == 1:
                    time.sleep(1.5)  # longer than the task's dispatch deadline
                try:
                    self.send_response(500 if left > 0 else 204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the emulator gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def calls_to(self, path: str) -> list[tuple[str, dict[str, str], bytes]]:
        return [call for call in self.calls if call[0] == path]

    def wait_for(self, path: str, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(path)) < n:
            assert time.monotonic() < deadline, f"{path}: {len(self.calls_to(path))} of {n}"
            time.sleep(0.05)

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
        free_port(), PROJECT, LOCATION, ["q-a", "q-b"], tmp_path_factory.mktemp("tasks"), venv,
        max_retries=5, min_backoff=0.05, max_backoff=0.2,
    )  # fmt: skip
    with emulator:
        yield emulator


def _http_task(url: str, body: bytes, name: str | None = None) -> dict[str, object]:
    task: dict[str, object] = {
        "http_request": {
            "url": url,
            "headers": {"X-Atende-Task-Secret": "s3cret", "Content-Type": "application/json"},
            "body": body,
        }
    }
    if name:
        task["name"] = name
    return task


def test_queue_paths_exist_and_serve_grpc_on_loopback(tasks: TasksEmulator) -> None:
    path = tasks.queue_path("q-a")
    assert path == f"projects/{PROJECT}/locations/{LOCATION}/queues/q-a"
    assert tasks.host == f"127.0.0.1:{tasks.port}"
    queues = tasks.client.list_queues(parent=f"projects/{PROJECT}/locations/{LOCATION}")
    assert sorted(q.name.rsplit("/", 1)[-1] for q in queues) == ["q-a", "q-b"]


def test_dispatches_http_task_with_our_header_and_body(
    tasks: TasksEmulator, target: Target
) -> None:
    queue = tasks.queue_path("q-a")
    name = f"{queue}/tasks/dispatch-1"
    created = tasks.client.create_task(
        parent=queue, task=_http_task(target.url("/worker"), b'{"event": 1}', name)
    )
    assert created.name == name
    target.wait_for("/worker", 1)
    _, headers, body = target.calls_to("/worker")[0]
    assert body == b'{"event": 1}'
    assert headers["x-atende-task-secret"] == "s3cret"
    assert headers["content-type"] == "application/json"
    assert headers["x-cloudtasks-queuename"] == "q-a"
    assert headers["x-cloudtasks-taskname"] == "dispatch-1"
    assert headers["x-cloudtasks-taskretrycount"] == "0"
    tasks.wait_empty(queue)


def test_rejects_a_task_name_already_used_until_purged(
    tasks: TasksEmulator, target: Target
) -> None:
    queue = tasks.queue_path("q-b")
    name = f"{queue}/tasks/once"
    tasks.client.create_task(parent=queue, task=_http_task(target.url("/once"), b"1", name))
    with pytest.raises(AlreadyExists):
        tasks.client.create_task(parent=queue, task=_http_task(target.url("/once"), b"2", name))
    target.wait_for("/once", 1)
    tasks.purge(queue)
    tasks.client.create_task(parent=queue, task=_http_task(target.url("/once"), b"3", name))
    target.wait_for("/once", 2)
    assert [call[2] for call in target.calls_to("/once")] == [b"1", b"3"]


def test_failed_task_is_retried_until_it_succeeds(tasks: TasksEmulator, target: Target) -> None:
    target.fail_first["/flaky"] = 2
    queue = tasks.queue_path("q-a")
    tasks.client.create_task(parent=queue, task=_http_task(target.url("/flaky"), b"x"))
    target.wait_for("/flaky", 3)
    retry_counts = [call[1]["x-cloudtasks-taskretrycount"] for call in target.calls_to("/flaky")]
    assert retry_counts == ["0", "1", "2"]
    tasks.wait_empty(queue)
    time.sleep(0.3)
    assert len(target.calls_to("/flaky")) == 3  # done: not dispatched again


def test_ensure_tasks_venv_reports_a_failed_build(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "venv"
    not_a_dir.write_text("a file where the virtualenv should go")
    with pytest.raises(RuntimeError, match="-m venv"):
        ensure_tasks_venv(not_a_dir)


def test_pause_then_purge_drops_pending_tasks(tasks: TasksEmulator, target: Target) -> None:
    queue = tasks.queue_path("q-b")
    tasks.pause(queue)
    try:
        for i in range(3):
            task = _http_task(target.url("/purged"), b"%d" % i)
            tasks.client.create_task(parent=queue, task=task)
        assert tasks.count_tasks(queue) == 3
        assert len(tasks.list_tasks(queue)) == 3
        tasks.purge(queue)
        assert tasks.count_tasks(queue) == 0
    finally:
        tasks.resume(queue)
    time.sleep(0.5)
    assert target.calls_to("/purged") == []


def test_a_scheduled_task_waits_for_its_time(tasks: TasksEmulator, target: Target) -> None:
    queue = tasks.queue_path("q-b")
    task = _http_task(target.url("/later"), b"later")
    task["schedule_time"] = datetime.now(UTC) + timedelta(seconds=1.2)
    tasks.client.create_task(parent=queue, task=task)
    time.sleep(0.6)
    assert target.calls_to("/later") == []
    assert tasks.count_tasks(queue) == 1
    target.wait_for("/later", 1, timeout=5)


def test_a_dispatch_past_its_deadline_is_retried(tasks: TasksEmulator, target: Target) -> None:
    queue = tasks.queue_path("q-a")
    task = _http_task(target.url("/slow"), b"slow")
    task["dispatch_deadline"] = timedelta(seconds=0.3)
    started = time.monotonic()
    tasks.client.create_task(parent=queue, task=task)
    target.wait_for("/slow", 2, timeout=5)
    assert time.monotonic() - started < 1.5  # retried before the first call even ended
    retry_counts = [call[1]["x-cloudtasks-taskretrycount"] for call in target.calls_to("/slow")]
    assert retry_counts == ["0", "1"]
