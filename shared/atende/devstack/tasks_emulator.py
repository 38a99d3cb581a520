"""The Cloud Tasks emulator (gcloud-tasks-emulator, in its own virtualenv) and a client for it.

The emulator pins protobuf<5, so it cannot share the project's virtualenv: it runs from
`<repo>/.venv-tasks` through `tasks_emulator_main.py`, which binds it to 127.0.0.1. We talk to
it with the project's own google-cloud-tasks client over an insecure gRPC channel.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from atende.devstack.processes import ManagedProcess, ensure_port_free, tail
from atende.devstack.queue_config import QueueRetryConfig

logger = logging.getLogger(__name__)

EMULATOR_REQUIREMENTS = ("gcloud-tasks-emulator==0.6.2", "protobuf<5")
LAUNCHER = Path(__file__).with_name("tasks_emulator_main.py")
#: The gRPC metadata entry naming the caller's identity (a function's name); the emulator
#: checks it against its grants. No entry, or ADMIN_IDENTITY, is the operator.
IDENTITY_METADATA = "x-atende-identity"
ADMIN_IDENTITY = "atende-cli"
#: Cloud Tasks' "Maximum task size: 1 MB" (cloud.google.com/tasks/docs/quotas), counted on the
#: serialized Task, in decimal bytes: the stricter reading of an unspecified "MB".
MAX_TASK_BYTES = 1_000_000


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
    """`TasksEmulator(port, project, location, queues, run_dir, venv)`; queues are ids.

    Like Cloud Tasks (see tasks_emulator_main.py for the documentation each point follows):
    - `grants` {identity: [queue id, ...]}: a caller whose gRPC metadata names an identity
      (IDENTITY_METADATA) other than ADMIN_IDENTITY may only create tasks in the queues
      granted to it, else PERMISSION_DENIED; None: no IAM check;
    - `queue_configs` {queue id: QueueRetryConfig}: attempts and backoff per queue; queues
      not in it retry `max_retries` times (-1: forever) after `min_backoff` doubled up to
      `max_doublings` times, capped at `max_backoff`. After its last attempt a task is deleted;
    - a task name is refused while its task exists and `tombstone_seconds` after it ended
      (completed, deleted, or dropped after its last attempt); a purge forgets the names;
    - a task over `max_task_bytes` (serialized) is INVALID_ARGUMENT "Task size too large".
    """

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
        max_doublings: int = 16,
        queue_configs: Mapping[str, QueueRetryConfig] | None = None,
        grants: Mapping[str, Iterable[str]] | None = None,
        tombstone_seconds: float = 3600.0,
        max_task_bytes: int = MAX_TASK_BYTES,
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
        self.max_doublings = max_doublings
        #: Queue id -> its retry config (the others use the settings above).
        self.queue_configs = dict(queue_configs or {})
        #: Identity -> the queue ids it may create tasks in; None: everyone may do anything.
        self.grants = (
            None if grants is None else {who: sorted(set(queues)) for who, queues in grants.items()}
        )
        #: How long a task name stays refused after its task ended (Cloud Tasks: ~1 hour).
        self.tombstone_seconds = tombstone_seconds
        self.max_task_bytes = max_task_bytes
        self.process: ManagedProcess | None = None
        self._client: tasks_v2.CloudTasksClient | None = None
        self._channel: grpc.Channel | None = None

    @property
    def grants_file(self) -> Path:
        return self.run_dir / f"tasks-emulator-{self.port}.grants.json"

    def _write_grants(self) -> None:
        staged = self.grants_file.with_suffix(".tmp")
        staged.write_text(json.dumps(self.grants, indent=2) + "\n")
        os.replace(staged, self.grants_file)  # the emulator never reads half a file

    def set_grants(self, grants: Mapping[str, Iterable[str]]) -> None:
        """Change who may enqueue where, on the running emulator (it re-reads the file on
        the next call, as an IAM policy change applies in the cloud). Started with grants."""
        if self.grants is None:
            raise RuntimeError("the emulator was started without grants: it enforces none")
        self.grants = {who: sorted(set(queues)) for who, queues in grants.items()}
        self._write_grants()

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
                "--max-doublings", str(self.max_doublings),
                "--tombstone-seconds", str(self.tombstone_seconds),
                "--max-task-bytes", str(self.max_task_bytes),
                "--ready-file", str(ready_file)]  # fmt: skip
        if self.queue_configs:
            queue_file = self.run_dir / f"tasks-emulator-{self.port}.queues.json"
            configs = {queue: c.emulator_json() for queue, c in self.queue_configs.items()}
            queue_file.write_text(json.dumps(configs, indent=2) + "\n")
            argv += ["--queue-config", str(queue_file)]
        if self.grants is not None:
            self._write_grants()
            argv += ["--grants", str(self.grants_file)]
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
