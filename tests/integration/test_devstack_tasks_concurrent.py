"""The Cloud Tasks emulator with --max-concurrent-dispatches: several tasks of one queue in
flight at once, as Cloud Tasks dispatches them, with retries and schedules still honoured."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from atende.devstack.processes import free_port
from atende.devstack.tasks_emulator import TasksEmulator, ensure_tasks_venv

REPO = Path(__file__).resolve().parents[2]
CONCURRENCY = 4


class SlowTarget:
    """Answers after a pause; records how many calls were in flight at most."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.in_flight = self.most_in_flight = 0
        self.fail_first: dict[str, int] = {}
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with target.lock:
                    target.calls.append(self.path)
                    target.in_flight += 1
                    target.most_in_flight = max(target.most_in_flight, target.in_flight)
                    left = target.fail_first.get(self.path, 0)
                    target.fail_first[self.path] = left - 1
                time.sleep(0.3)
                with target.lock:
                    target.in_flight -= 1
                self.send_response(500 if left > 0 else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for call in self.calls if call == path)

    def wait_for(self, path: str, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count(path) < n:
            assert time.monotonic() < deadline, f"{path}: {self.count(path)} of {n}"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def target() -> Iterator[SlowTarget]:
    running = SlowTarget()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TasksEmulator]:
    venv = REPO / ".venv-tasks"
    ensure_tasks_venv(venv)
    emulator = TasksEmulator(
        free_port(), "concurrent-test", "us-central1", ["q"], tmp_path_factory.mktemp("tasks"),
        venv, max_retries=5, min_backoff=0.05, max_backoff=0.2, quiet=True,
        max_concurrent_dispatches=CONCURRENCY,
    )  # fmt: skip
    with emulator:
        yield emulator


def _create(tasks: TasksEmulator, url: str, schedule: datetime | None = None) -> None:
    task: dict[str, object] = {"http_request": {"url": url, "body": b"x"}}
    if schedule is not None:
        task["schedule_time"] = schedule
    tasks.client.create_task(parent=tasks.queue_path("q"), task=task)


def test_up_to_the_limit_of_tasks_are_in_flight_at_once(tasks, target) -> None:
    started = time.monotonic()
    for _ in range(8):
        _create(tasks, target.url("/many"))
    target.wait_for("/many", 8)
    tasks.wait_empty(tasks.queue_path("q"))
    assert target.most_in_flight == CONCURRENCY
    # Eight calls of 0.3 s, four at a time: about two rounds, not eight.
    assert time.monotonic() - started < 8 * 0.3


def test_a_failed_task_is_retried_once_per_failure_and_then_left_alone(tasks, target) -> None:
    target.fail_first["/flaky"] = 2
    _create(tasks, target.url("/flaky"))
    target.wait_for("/flaky", 3)
    tasks.wait_empty(tasks.queue_path("q"))
    time.sleep(0.5)
    assert target.count("/flaky") == 3


def test_a_scheduled_task_still_waits_for_its_time(tasks, target) -> None:
    _create(tasks, target.url("/later"), datetime.now(UTC) + timedelta(seconds=1))
    time.sleep(0.6)
    assert target.count("/later") == 0
    target.wait_for("/later", 1, timeout=5)
