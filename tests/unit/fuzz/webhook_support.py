"""Every webhook channel's real connector (built by its wiring) behind the real WebhookEdge,
a signer per channel, and a queue that refuses what Cloud Tasks refuses."""

from __future__ import annotations

import asyncio
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.google_calendar import sample as google_calendar_sample
from atende.channels.plugin import ChannelDeps
from atende.channels.registry import plugin
from atende.channels.whatsapp import sample as whatsapp_sample
from atende.config import Settings
from atende.domain.events import InboundEvent, UnsupportedEvent
from atende.errors import TransientError
from atende.json_text import without_lone_surrogates
from atende.ports import TaskRequest, WebhookConnector, WebhookResponse
from atende.tasks.contracts import PROCESS_TASK, InboundBatch, InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

DATA = Path(__file__).resolve().parents[2] / "data"
JSON_CHANNELS = ("whatsapp", "messenger", "instagram", "linkedin", "tiktok", "discord")
CHANNELS = (*JSON_CHANNELS, "youtube", "google_calendar")
#: Cloud Tasks' limit for one task: URL, headers and body (cloud.google.com/tasks/docs/quotas).
CLOUD_TASKS_MAX_TASK_BYTES = 1_000_000
#: What the real task adds to its body: the worker's URL and the request headers.
TASK_ENVELOPE_BYTES = 2048
MAX_BODY_BYTES = 1024 * 1024
GOOGLE_CALENDAR_SECRET = "fuzz-google-calendar-channel-secret"
GOOGLE_CALENDAR_ID = "agenda@loja.example"


class TaskLimitQueue:
    """An in-memory Cloud Tasks queue: refuses a task over 1 MB (as the API does, an error
    the adapter turns into TransientError) and a name it already has (returns False)."""

    def __init__(self) -> None:
        self.created: list[TaskRequest] = []
        self.refused_duplicates: list[TaskRequest] = []
        self._names: set[str] = set()

    async def enqueue(self, task: TaskRequest) -> bool:
        size = len(task.body) + len(task.task_id) + len(task.correlation_id) + TASK_ENVELOPE_BYTES
        if size > CLOUD_TASKS_MAX_TASK_BYTES:
            raise TransientError("task too large for Cloud Tasks", code="enqueue_failed")
        if task.task_id in self._names:
            self.refused_duplicates.append(task)
            return False
        self._names.add(task.task_id)
        self.created.append(task)
        return True

    def inbound_tasks(self) -> list[InboundTask]:
        """Every event task created, batches unpacked; each body must be valid UTF-8 that
        processing accepts."""
        found: list[InboundTask] = []
        for request in self.created:
            request.body.decode("utf-8")  # strict: no surrogates, no broken sequences
            parsed = PROCESS_TASK.validate_json(request.body)
            if isinstance(parsed, InboundBatch):
                found.extend(parsed.tasks)
            else:
                assert isinstance(parsed, InboundTask)
                found.append(parsed)
        return found


def _samples() -> dict[str, ModuleType]:
    return {c: importlib.import_module(f"atende.channels.{c}.sample") for c in CHANNELS}


def _base_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for module in _samples().values():
        build = getattr(module, "dev_env", None)
        if build is not None:
            env.update(build("http://127.0.0.1:9"))
    env.update(
        {
            "WHATSAPP_APP_SECRET": "fuzz-whatsapp-app-secret",
            "WHATSAPP_VERIFY_TOKEN": "fuzz-whatsapp-verify-token",
            "ATENDE_WHATSAPP_TENANTS": json.dumps({whatsapp_sample.DEV_PHONE_NUMBER_ID: "demo"}),
            "GOOGLE_CALENDAR_CHANNEL_SECRET": GOOGLE_CALENDAR_SECRET,
            "ATENDE_GOOGLE_CALENDAR_CALENDARS": json.dumps({GOOGLE_CALENDAR_ID: "demo"}),
        }
    )
    return env


def fixtures(channel: str) -> list[bytes]:
    folder = DATA / channel
    return [path.read_bytes() for path in sorted(folder.glob("*.json"))]


def _tenants_setting(channel: str) -> str:
    return f"ATENDE_{channel.upper()}_TENANTS"


@dataclass
class Webhooks:
    """The channels' connectors and their secrets; `edge()` is a fresh edge and queue."""

    env: dict[str, str]
    connectors: dict[str, WebhookConnector] = field(default_factory=dict)

    @property
    def secrets(self) -> EnvSecretSource:
        return EnvSecretSource(environ=self.env, dotenv_path=None)

    def edge(self, channel: str) -> tuple[WebhookEdge, TaskLimitQueue]:
        queue = TaskLimitQueue()
        return WebhookEdge(self.connectors[channel], queue, MAX_BODY_BYTES, SystemClock()), queue

    def signed(self, channel: str, body: bytes, **notice: Any) -> EdgeRequest:
        """A POST of `body` signed the way the channel's provider signs it (Google Calendar:
        a notice on our channel, `notice` giving its headers' values)."""
        if channel == "google_calendar":
            headers = google_calendar_sample.notice_headers(
                self.secrets, calendar_id=GOOGLE_CALENDAR_ID, tenant_id="demo", **notice
            )
        else:
            headers = _samples()[channel].signed_headers(body, self.secrets)
        return EdgeRequest(method="POST", headers=headers, body=body)

    def deliver(
        self, channel: str, request: EdgeRequest
    ) -> tuple[WebhookResponse, TaskLimitQueue, list[InboundEvent]]:
        """The edge's answer, its queue, and the events it had to keep (what the parser
        returns for the body, as the edge parses it, less those of unknown accounts, which
        are acknowledged only)."""
        edge, queue = self.edge(channel)
        response = asyncio.run(edge.handle(request, "corr-fuzz"))
        kept: list[InboundEvent] = []
        if 200 <= response.status < 300:
            connector = self.connectors[channel]
            try:
                parsed = connector.parse(request.body, request.headers)
            except UnicodeEncodeError:  # what the edge does then: parse it repaired
                parsed = connector.parse(without_lone_surrogates(request.body), request.headers)
            kept = [
                event
                for event in parsed
                if connector.tenant_for(event) is not None or isinstance(event, UnsupportedEvent)
            ]
        return response, queue, kept


def _build(channel: str, env: dict[str, str]) -> WebhookConnector:
    factory = plugin(channel).connector
    assert factory is not None, f"{channel} has no webhook"

    def unused() -> Any:
        raise AssertionError("a webhook needs no channel state or task queue of its own")

    deps = ChannelDeps(
        settings=Settings(),
        secrets=EnvSecretSource(environ=env, dotenv_path=None),
        clock=SystemClock(),
        state=unused,
        tasks=unused,
    )
    return factory(deps)


def build_webhooks() -> Webhooks:
    """Every channel's connector, configured with the dev stack's settings plus a tenant for
    every account the fixtures under tests/data/<channel>/ name."""
    env = _base_env()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        for channel in JSON_CHANNELS:
            accounts: set[str] = set()
            connector = _build(channel, env)
            for body in fixtures(channel):
                accounts |= {event.account_id for event in connector.parse(body, {})}
            tenants = {**json.loads(env[_tenants_setting(channel)]), **dict.fromkeys(accounts)}
            env[_tenants_setting(channel)] = json.dumps(
                {account: "demo" for account in tenants if account}
            )
            patch.setenv(_tenants_setting(channel), env[_tenants_setting(channel)])
        # Settings are read when a connector is built: the environment is restored after.
        return Webhooks(env, {channel: _build(channel, env) for channel in CHANNELS})
