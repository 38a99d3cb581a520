"""The whole local stack: Firestore and Cloud Tasks emulators, the provider sandbox and the
functions, each a local process on 127.0.0.1. `make dev` runs it; e2e tests reuse it.

The functions server runs with its working directory in the run directory and without the
caller's ATENDE_* / secret variables: everything it gets is in `StackConfig` (the CLI fills
the secrets and `extra_env` from `.env`), so a stray `.env` or shell variable cannot change a
test run.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from atende.channels.registry import dev_env as channel_dev_env
from atende.config import Settings
from atende.devstack.ai_sandbox import AiSandboxClient
from atende.devstack.firestore_emulator import FirestoreEmulator
from atende.devstack.functions_app import discover
from atende.devstack.processes import ManagedProcess, ensure_port_free, wait_http
from atende.devstack.queue_config import QueueRetryConfig, terraform_queue_settings
from atende.devstack.radicale_server import RadicaleServer
from atende.devstack.sandbox import SandboxClient
from atende.devstack.tasks_emulator import TasksEmulator

logger = logging.getLogger(__name__)

_DEFAULTS = Settings.model_fields
# Environment variable names (secret names are the same as their variables locally).
APP_SECRET, VERIFY_TOKEN = "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"
ACCESS_TOKEN, TASK_SECRET = "WHATSAPP_ACCESS_TOKEN", "ATENDE_TASK_SECRET"
AGENT_TOKEN, AI_KEY = "ATENDE_AGENT_API_TOKEN", "ATENDE_AI_API_KEY"
GOOGLE_CHANNEL_SECRET = "GOOGLE_CALENDAR_CHANNEL_SECRET"  # noqa: S105 - a secret's name
_SECRET_NAMES = (
    APP_SECRET,
    VERIFY_TOKEN,
    ACCESS_TOKEN,
    TASK_SECRET,
    AGENT_TOKEN,
    AI_KEY,
    "APPLE_CALENDAR_APP_PASSWORD",
    GOOGLE_CHANNEL_SECRET,
)
GRAPH_VERSION = "v23.0"
#: `make dev`'s retries, on both queues: Terraform's take about 3 hours to give up; these
#: make a task that keeps failing a dead letter in under a minute (attempts at 0, 1, 3, 7,
#: 15, 23, 31 and 39 s). `.env` may change them (ATENDE_DEV_MAX_ATTEMPTS, …, cli/dev.py).
DEV_RETRIES: dict[str, Any] = {
    "max_attempts": 8,
    "min_backoff_seconds": 1.0,
    "max_backoff_seconds": 8.0,
    "max_doublings": 3,
}


def _dev_retries() -> dict[str, dict[str, Any]]:
    return {"inbound": dict(DEV_RETRIES), "outbound": dict(DEV_RETRIES)}


@dataclass
class StackConfig:
    repo_root: Path
    #: Logs and scratch files of this run.
    run_dir: Path
    project: str = "atende-dev"
    location: str = "us-central1"
    functions_port: int = 8080
    firestore_port: int = 8681
    tasks_port: int = 9022
    sandbox_port: int = 8089
    inbound_queue: str = str(_DEFAULTS["inbound_queue"].default)
    outbound_queue: str = str(_DEFAULTS["outbound_queue"].default)
    whatsapp_app_secret: str = "dev-app-secret"  # noqa: S105 - dev-only default
    whatsapp_verify_token: str = "dev-verify-token"  # noqa: S105 - dev-only default
    whatsapp_access_token: str = "dev-access-token"  # noqa: S105 - dev-only default
    task_secret: str = "dev-task-secret"  # noqa: S105 - dev-only default
    agent_token: str = "dev-agent-token"  # noqa: S105 - dev-only default
    #: Serve the local OpenAI-compatible AI sandbox on this port (None: no AI sandbox; an
    #: AI endpoint of your own can still come in through `extra_env`).
    ai_sandbox_port: int | None = None
    ai_api_key: str = "dev-ai-key"
    #: The local CalDAV server (Radicale) standing in for iCloud. A fixed port in dev: the
    #: calendar's URL is part of its stored sync state.
    radicale_port: int = 5232
    #: The local fake of the Google Calendar API.
    google_calendar_port: int = 8092
    #: WhatsApp phone number id -> tenant id.
    whatsapp_tenants: dict[str, str] = field(default_factory=lambda: {"106540352242922": "demo"})
    extra_env: dict[str, str] = field(default_factory=dict)
    #: Defaults to <repo_root>/functions.
    functions_dir: Path | None = None
    #: The Cloud Tasks emulator's own virtualenv; defaults to <repo_root>/.venv-tasks.
    tasks_venv: Path | None = None
    #: Cloud Tasks retries: Terraform's `queue_settings` (infra/variables.tf), with these
    #: fields changed per queue ("inbound", "outbound"); the functions get the same
    #: max_attempts, so they know a task's last attempt as in the cloud.
    queue_overrides: dict[str, dict[str, Any]] = field(default_factory=_dev_retries)
    #: How long a task's name stays refused after the task ended (about an hour in Cloud
    #: Tasks; short here, so a developer can replay soon).
    tasks_tombstone_seconds: float = 10.0
    tasks_reject_duplicate_names: bool = True
    #: What each function may touch ({function: {"secrets": [...], "queues": [...]}}):
    #: atende.deployment.grants() unless given. The emulator refuses other queues, and a
    #: function reads only its secrets.
    grants: dict[str, dict[str, list[str]]] | None = None
    start_timeout: float = 60.0

    @property
    def queues(self) -> list[str]:
        return [self.inbound_queue, self.outbound_queue]

    @property
    def queue_ids(self) -> dict[str, str]:
        return {"inbound": self.inbound_queue, "outbound": self.outbound_queue}

    def retries(self) -> dict[str, QueueRetryConfig]:
        """Each queue's retry settings, by key ("inbound", "outbound")."""
        return terraform_queue_settings(overrides=self.queue_overrides)

    def function_grants(self) -> dict[str, dict[str, list[str]]]:
        if self.grants is not None:
            return self.grants
        from atende.deployment import grants

        return grants()


class Stack:
    """`with Stack(config) as stack:` starts everything; leaving stops it, in reverse."""

    def __init__(self, config: StackConfig) -> None:
        # Children run with the run directory as their cwd: every path they get is absolute.
        config.run_dir = config.run_dir.resolve()
        self.config = config
        self.run_dir = config.run_dir
        self.functions_dir = config.functions_dir or config.repo_root / "functions"
        self.functions_url = f"http://127.0.0.1:{config.functions_port}"
        self.sandbox_url = f"http://127.0.0.1:{config.sandbox_port}"
        self.radicale = RadicaleServer(self.run_dir, config.radicale_port)
        self.google_calendar_url = f"http://127.0.0.1:{config.google_calendar_port}"
        self.google_calendar_process = ManagedProcess(
            "google_calendar_fake",
            [sys.executable, "-m", "atende.devstack.google_calendar_fake",
             "--port", str(config.google_calendar_port)],
            self._base_env(),
            self.run_dir / "google_calendar_fake.log",
            cwd=self.run_dir,
        )  # fmt: skip
        self.ai_sandbox_url = (
            f"http://127.0.0.1:{config.ai_sandbox_port}" if config.ai_sandbox_port else None
        )
        self.firestore = FirestoreEmulator(config.firestore_port, config.project, self.run_dir)
        self.retries = config.retries()
        self.grants_file = self.run_dir / "grants.json"
        self.tasks = TasksEmulator(
            config.tasks_port,
            config.project,
            config.location,
            config.queues,
            self.run_dir,
            config.tasks_venv or config.repo_root / ".venv-tasks",
            reject_duplicate_names=config.tasks_reject_duplicate_names,
            queue_configs={config.queue_ids[key]: c for key, c in self.retries.items()},
            grants=self._queue_grants(config.function_grants()),
            tombstone_seconds=config.tasks_tombstone_seconds,
        )
        self.sandbox = SandboxClient(self.sandbox_url)
        python = sys.executable
        self.sandbox_process = ManagedProcess(
            "sandbox",
            [python, "-m", "atende.devstack.sandbox", "--port", str(config.sandbox_port),
             "--access-token", config.whatsapp_access_token],
            self._base_env(),
            self.run_dir / "sandbox.log",
            cwd=self.run_dir,
        )  # fmt: skip
        self.functions = ManagedProcess(
            "functions",
            [python, "-m", "atende.devstack.functions_app", "--port", str(config.functions_port),
             "--functions-dir", str(self.functions_dir)],
            self._functions_env(),
            self.run_dir / "functions.log",
            restart=True,
            cwd=self.run_dir,
        )  # fmt: skip
        self.ai_sandbox = AiSandboxClient(self.ai_sandbox_url) if self.ai_sandbox_url else None
        self.ai_sandbox_process: ManagedProcess | None = None
        if config.ai_sandbox_port:
            self.ai_sandbox_process = ManagedProcess(
                "ai_sandbox",
                [python, "-m", "atende.devstack.ai_sandbox", "--port", str(config.ai_sandbox_port),
                 "--api-key", config.ai_api_key],
                self._base_env(),
                self.run_dir / "ai_sandbox.log",
                cwd=self.run_dir,
            )  # fmt: skip
        self._started: list[str] = []

    # -- environment -------------------------------------------------------------------

    @staticmethod
    def _base_env() -> dict[str, str]:
        """The caller's environment, less anything that would configure Atende."""
        strip = {
            "FIRESTORE_EMULATOR_HOST",
            "GOOGLE_CLOUD_PROJECT",
            *_SECRET_NAMES,
            *channel_dev_env("http://unused"),
        }
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("ATENDE_") and key not in strip
        }
        env["PYTHONUNBUFFERED"] = "1"
        return env

    @property
    def client_env(self) -> dict[str, str]:
        """What a CLI or a test needs in its environment to talk to this stack."""
        c = self.config
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore.host,
            "GOOGLE_CLOUD_PROJECT": c.project,
            "ATENDE_PROJECT": c.project,
            "ATENDE_LOCATION": c.location,
            "ATENDE_INBOUND_QUEUE": c.inbound_queue,
            "ATENDE_OUTBOUND_QUEUE": c.outbound_queue,
            "ATENDE_TASKS_EMULATOR_HOST": self.tasks.host,
            # A worker's last attempt is the queue's own (dead letters).
            "ATENDE_INBOUND_MAX_ATTEMPTS": str(self.retries["inbound"].max_attempts),
            "ATENDE_OUTBOUND_MAX_ATTEMPTS": str(self.retries["outbound"].max_attempts),
            "ATENDE_FUNCTIONS_BASE_URL": self.functions_url,
            "ATENDE_WHATSAPP_API_BASE_URL": f"{self.sandbox_url}/graph/{GRAPH_VERSION}",
            "ATENDE_SECRETS_BACKEND": "env",
            "ATENDE_TASK_AUTH": "shared-secret",
            "ATENDE_WHATSAPP_TENANTS": json.dumps(c.whatsapp_tenants),
            APP_SECRET: c.whatsapp_app_secret,
            VERIFY_TOKEN: c.whatsapp_verify_token,
            ACCESS_TOKEN: c.whatsapp_access_token,
            TASK_SECRET: c.task_secret,
            AGENT_TOKEN: c.agent_token,
            # Every other channel's dev settings and secrets, pointing it at the sandbox.
            **channel_dev_env(self.sandbox_url),
            **self.radicale.env("demo"),
            "ATENDE_GOOGLE_CALENDAR_API_BASE_URL": f"{self.google_calendar_url}/calendar/v3",
            "ATENDE_GOOGLE_CALENDAR_CALENDARS": json.dumps({"agenda@loja.example": "demo"}),
            "ATENDE_GOOGLE_CALENDAR_WEBHOOK_URL": f"{self.functions_url}/google_calendar_webhook",
            GOOGLE_CHANNEL_SECRET: "dev-google-calendar-channel-secret",
            **(
                {"ATENDE_AI_BASE_URL": f"{self.ai_sandbox_url}/v1", AI_KEY: c.ai_api_key}
                if self.ai_sandbox_url
                else {}
            ),
        }

    def _queue_grants(self, grants: Mapping[str, Mapping[str, list[str]]]) -> dict[str, list[str]]:
        """The emulator's view: {identity: [queue id, ...]}."""
        ids = self.config.queue_ids
        return {name: [ids[queue] for queue in spec["queues"]] for name, spec in grants.items()}

    def set_grants(self, grants: dict[str, dict[str, list[str]]] | None = None) -> None:
        """Change what the functions may touch while the stack runs (None: the declared
        grants again). Queues apply at once; secrets when the functions restart."""
        current = grants if grants is not None else self.config.function_grants()
        self.grants_file.write_text(json.dumps(current, indent=2) + "\n")
        self.tasks.set_grants(self._queue_grants(current))

    def _functions_env(self, extra_env: Mapping[str, str | None] | None = None) -> dict[str, str]:
        env = {
            **self._base_env(),
            **self.client_env,
            "ATENDE_LOCAL_GRANTS_FILE": str(self.grants_file),
            **self.config.extra_env,
        }
        for key, value in (extra_env or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        c, timeout = self.config, self.config.start_timeout
        ports = [(c.firestore_port, "Firestore emulator"), (c.tasks_port, "Cloud Tasks emulator"),
                 (c.sandbox_port, "provider sandbox"), (c.functions_port, "functions")]  # fmt: skip
        if c.ai_sandbox_port:
            ports.append((c.ai_sandbox_port, "AI sandbox"))
        ports.append((c.radicale_port, "CalDAV server (Radicale)"))
        ports.append((c.google_calendar_port, "Google Calendar fake"))
        for port, what in ports:
            ensure_port_free(port, what)
        self.grants_file.write_text(json.dumps(c.function_grants(), indent=2) + "\n")
        try:
            self.firestore.start()
            self._started.append("firestore")
            self.tasks.start()
            self._started.append("tasks")
            self.sandbox_process.start()
            self._started.append("sandbox")
            wait_http(f"{self.sandbox_url}/_sandbox/health", timeout, self.sandbox_process)
            if self.ai_sandbox_process is not None:
                self.ai_sandbox_process.start()
                self._started.append("ai_sandbox")
                wait_http(f"{self.ai_sandbox_url}/v1/models", timeout, self.ai_sandbox_process)
            self.radicale.start()
            self._started.append("radicale")
            self.google_calendar_process.start()
            self._started.append("google_calendar")
            wait_http(
                f"{self.google_calendar_url}/_fake/health", timeout, self.google_calendar_process
            )
            self.functions.start()
            self._started.append("functions")
            self.wait_functions(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_functions(self, timeout: float = 30.0) -> None:
        """Wait until the functions server answers (after a start or a crash)."""
        wait_http(f"{self.functions_url}/_health", timeout, self.functions)

    def stop(self) -> None:
        """Stop whatever was started, in reverse order; never raises."""
        parts = {
            "functions": self.functions.stop,
            "sandbox": self.sandbox_process.stop,
            "radicale": self.radicale.stop,
            "google_calendar": self.google_calendar_process.stop,
            "ai_sandbox": self.ai_sandbox_process.stop if self.ai_sandbox_process else _nothing,
            "tasks": self.tasks.stop,
            "firestore": self.firestore.stop,
        }
        while self._started:
            name = self._started.pop()
            try:
                parts[name]()
            except Exception:
                logger.exception("stopping %s failed", name)

    def restart_functions(self, extra_env: Mapping[str, str | None] | None = None) -> None:
        """Restart the functions server with the stack's env plus `extra_env` (None values
        remove a variable); `restart_functions()` goes back to the stack's own env."""
        self.functions.stop()
        self.functions.env = self._functions_env(extra_env)
        self.functions.start()
        self.wait_functions(self.config.start_timeout)

    def reset(self) -> None:
        """Between tests: wipe Firestore, purge both queues, clear the sandbox."""
        self.firestore.wipe()
        for queue in self.config.queues:
            self.tasks.purge(self.tasks.queue_path(queue))
        self.sandbox.clear()
        if self.ai_sandbox is not None:
            self.ai_sandbox.clear()

    def function_url(self, name: str) -> str:
        return f"{self.functions_url}/{name}"

    def banner(self) -> str:
        c = self.config
        names = discover(self.functions_dir)
        lines = [
            f"Atende dev stack is up (project {c.project}); logs in {self.run_dir}",
            f"  functions    {self.functions_url}/<name>",
            *(f"                 {self.function_url(name)}" for name in names),
            f"  firestore    FIRESTORE_EMULATOR_HOST={self.firestore.host}",
            f"  cloud tasks  ATENDE_TASKS_EMULATOR_HOST={self.tasks.host} "
            f"(queues {', '.join(c.queues)})",
            *(
                f"                 {key} retries: {r.max_attempts} attempts, backoff "
                f"{r.min_backoff_seconds:g}-{r.max_backoff_seconds:g} s "
                f"({r.max_doublings} doublings), then a dead letter"
                for key, r in self.retries.items()
            ),
            f"                 each function may enqueue only to its declared queues "
            f"({self.grants_file.name}); a task name is refused "
            f"{c.tasks_tombstone_seconds:g} s after its task ended",
            f"  sandbox      {self.sandbox_url}/graph/{GRAPH_VERSION}  "
            f"(recorded: {self.sandbox_url}/_sandbox/requests)",
            *(
                [f"  AI sandbox   {self.ai_sandbox_url}/v1  (OpenAI-compatible, scripted)"]
                if self.ai_sandbox_url
                else []
            ),
            f"  caldav       {self.radicale.calendar_url}  (Radicale, for apple_calendar)",
            f"  gcal fake    {self.google_calendar_url}/calendar/v3  (for google_calendar)",
            "Stop with Ctrl-C.",
        ]
        return "\n".join(lines)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _nothing() -> None:
    return None


def run_forever(config: StackConfig, on_ready: Callable[[str], None] | None = None) -> int:
    """`make dev`: start the stack, hand the banner to `on_ready` (default: log it), wait
    for SIGINT/SIGTERM, stop. Call it from the main thread."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        logger.info("got signal %d, stopping", signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Stack(config) as stack:
            banner = stack.banner()
            if on_ready is None:
                logger.info("%s", banner)
            else:
                on_ready(banner)
            while not stop.wait(1.0):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
