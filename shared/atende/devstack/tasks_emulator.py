"""The Cloud Tasks emulator (gcloud-tasks-emulator, in its own virtualenv) and a client for it.

The emulator pins protobuf<5, so it cannot share the project's virtualenv: it runs from
`<repo>/.venv-tasks` through `tasks_emulator_main.py`, which binds it to 127.0.0.1. We talk to
it with the project's own google-cloud-tasks client over an insecure gRPC channel.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from atende.devstack.processes import ManagedProcess, ensure_port_free, tail

logger = logging.getLogger(__name__)

EMULATOR_REQUIREMENTS = ("gcloud-tasks-emulator==0.6.2", "protobuf<5")
LAUNCHER = Path(__file__).with_name("tasks_emulator_main.py")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _has_emulator(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-I", "-c", "import gcloud_tasks_emulator.server"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return probe.returncode == 0


def ensure_tasks_venv(path: Path) -> Path:
    """Make sure the virtualenv at `path` can run the emulator; return its python.

    Creates it (`python -m venv` + pip install gcloud-tasks-emulator==0.6.2 'protobuf<5')
    only when its python cannot import gcloud_tasks_emulator. Takes ~20 s the first time.
    """
    python = venv_python(path)
    if _has_emulator(python):
        return python
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"atende-tasks-venv-{digest}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        if _has_emulator(python):
            return python
        logger.info("creating the Cloud Tasks emulator virtualenv at %s", path)
        steps = [
            [sys.executable, "-m", "venv", str(path)],
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                *EMULATOR_REQUIREMENTS,
            ],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
            if done.returncode != 0:
                raise RuntimeError(
                    f"{' '.join(step)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                )
    if not _has_emulator(python):
        raise RuntimeError(f"{python} still cannot import gcloud_tasks_emulator")
    return python


class TasksEmulator:
    """`TasksEmulator(port, project, location, queues, run_dir, venv)`; queues are ids."""

    def __init__(
        self,
        port: int,
        project: str,
        location: str,
        queues: list[str],
        run_dir: Path,
        venv: Path,
        *,
        max_retries: int = -1,
        dispatch_deadline: float = 600.0,
        min_backoff: float = 0.1,
        max_backoff: float = 1.0,
        reject_duplicate_names: bool = True,
        start_timeout: float = 30.0,
        quiet: bool = False,
        max_concurrent_dispatches: int = 1,
    ) -> None:
        self.port = port
        self.project = project
        self.location = location
        self.queues = list(queues)
        self.run_dir = run_dir
        self.venv = venv
        self.max_retries = max_retries
        self.dispatch_deadline = dispatch_deadline
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.reject_duplicate_names = reject_duplicate_names
        self.start_timeout = start_timeout
        #: Log warnings only (benchmarks: no log line per task).
        self.quiet = quiet
        #: Tasks of one queue dispatched at once (1: the stock emulator's one at a time).
        self.max_concurrent_dispatches = max_concurrent_dispatches
        self.process: ManagedProcess | None = None
        self._client: tasks_v2.CloudTasksClient | None = None
        self._channel: grpc.Channel | None = None

    @property
    def host(self) -> str:
        """host:port, the value of ATENDE_TASKS_EMULATOR_HOST."""
        return f"127.0.0.1:{self.port}"

    def queue_path(self, name: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/queues/{name}"

    def start(self) -> None:
        python = ensure_tasks_venv(self.venv)
        ensure_port_free(self.port, "Cloud Tasks emulator")
        ready_file = self.run_dir / f"tasks-emulator-{self.port}.ready"
        ready_file.unlink(missing_ok=True)
        argv = [str(python), "-I", str(LAUNCHER), "--port", str(self.port),
                "--max-retries", str(self.max_retries),
                "--dispatch-deadline", str(self.dispatch_deadline),
                "--min-backoff", str(self.min_backoff), "--max-backoff", str(self.max_backoff),
                "--ready-file", str(ready_file)]  # fmt: skip
        for queue in self.queues:
            argv += ["-d", self.queue_path(queue)]
        if not self.reject_duplicate_names:
            argv.append("--allow-duplicate-names")
        if self.quiet:
            argv.append("--quiet")
        if self.max_concurrent_dispatches > 1:
            argv += ["--max-concurrent-dispatches", str(self.max_concurrent_dispatches)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = ManagedProcess(
            "tasks-emulator", argv, env, self.run_dir / "tasks-emulator.log", cwd=self.run_dir
        )
        self.process.start()
        try:
            self._wait_ready(ready_file)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, ready_file: Path) -> None:
        if self.process is None:
            raise RuntimeError("the Cloud Tasks emulator was not started")
        deadline = time.monotonic() + self.start_timeout
        while not ready_file.exists():
            if self.process.returncode is not None:
                raise RuntimeError(
                    f"the Cloud Tasks emulator exited ({self.process.returncode}); "
                    f"log {self.process.log_path}:\n{self.process.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the Cloud Tasks emulator did not start within {self.start_timeout:.0f}s; "
                    f"log {self.process.log_path}:\n{tail(self.process.log_path)}"
                )
            time.sleep(0.05)
        for queue in self.queues:  # answers through gRPC, with our client
            self.client.get_queue(name=self.queue_path(queue), timeout=self.start_timeout)

    @property
    def client(self) -> tasks_v2.CloudTasksClient:
        """A CloudTasksClient talking to the emulator (closed by stop())."""
        if self._client is None:
            self._channel = grpc.insecure_channel(self.host)
            transport = CloudTasksGrpcTransport(channel=self._channel)
            self._client = tasks_v2.CloudTasksClient(transport=transport)
        return self._client

    def close_client(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._client = None
        self._channel = None

    def stop(self) -> None:
        self.close_client()
        if self.process is not None:
            self.process.stop()
            self.process = None

    def purge(self, queue_path: str) -> None:
        """Drop every task of the queue (and, here, forget its task names)."""
        self.client.purge_queue(name=queue_path, timeout=30)

    def pause(self, queue_path: str) -> None:
        self.client.pause_queue(name=queue_path, timeout=30)

    def resume(self, queue_path: str) -> None:
        self.client.resume_queue(name=queue_path, timeout=30)

    def list_tasks(self, queue_path: str) -> list[Any]:
        """The queue's pending tasks (waiting, scheduled or awaiting a retry)."""
        return list(self.client.list_tasks(parent=queue_path, timeout=30))

    def count_tasks(self, queue_path: str) -> int:
        return len(self.list_tasks(queue_path))

    def wait_empty(self, queue_path: str, timeout: float = 10.0) -> None:
        """Wait until the queue has no pending task (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        while (count := self.count_tasks(queue_path)) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{queue_path} still has {count} task(s) after {timeout}s")
            time.sleep(0.05)

    def __enter__(self) -> TasksEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
