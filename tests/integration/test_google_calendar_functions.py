"""The Google Calendar functions as deployed (functions/*/main.py through the composition
root), with the local Calendar fake; and `atende simulate google_calendar`'s `simulate`."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from atende.adapters.env_secrets import EnvSecretSource
from atende.bootstrap import Container, reset_container
from atende.channels.google_calendar import sample
from atende.channels.google_calendar.api import CalendarApi
from atende.channels.google_calendar.sync import GoogleCalendarSync
from atende.config import Settings
from atende.devstack.functions_app import build_app
from atende.devstack.google_calendar_fake import FakeCalendarClient, create_app
from atende.devstack.processes import free_port, serve_in_thread
from atende.domain.events import CalendarEventCreated, CalendarSyncRequested
from atende.tasks.contracts import InboundTask

REPO = Path(__file__).resolve().parents[2]
CALENDAR = "agenda@loja.example"
TENANT = "loja"
SECRET = "functions-channel-secret"
TASK_SECRET = "functions-task-secret"
CHANNEL_SECRET, TASK_SECRET_NAME = "GOOGLE_CALENDAR_CHANNEL_SECRET", "ATENDE_TASK_SECRET"


class MemoryState:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.values.get(key))

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = copy.deepcopy(value)

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {k: copy.deepcopy(v) for k, v in self.values.items() if k.startswith(prefix)}


class Queue:
    def __init__(self) -> None:
        self.tasks: list[Any] = []

    def enqueue(self, task: Any) -> bool:
        self.tasks.append(task)
        return True

    def events(self) -> list[Any]:
        return [InboundTask.model_validate_json(t.body).event for t in self.tasks]


class AsyncQueue(Queue):
    async def enqueue(self, task: Any) -> bool:  # type: ignore[override]
        self.tasks.append(task)
        return True


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture
def fake(fake_url: str) -> FakeCalendarClient:
    client = FakeCalendarClient(fake_url)
    client.reset()
    return client


@pytest.fixture
def stack(
    fake: FakeCalendarClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """Our two functions served like the dev stack serves them, with in-memory ports."""
    functions = tmp_path / "functions"
    for name in ("google_calendar_webhook", "google_calendar_watch"):
        shutil.copytree(REPO / "functions" / name, functions / name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "ATENDE_GOOGLE_CALENDAR_CALENDARS": json.dumps({CALENDAR: TENANT}),
        "ATENDE_GOOGLE_CALENDAR_API_BASE_URL": fake.api_base_url,
        "ATENDE_GOOGLE_CALENDAR_WEBHOOK_URL": f"{base}/google_calendar_webhook",
        "ATENDE_FUNCTIONS_BASE_URL": base,
        "GOOGLE_CALENDAR_CHANNEL_SECRET": SECRET,
        "ATENDE_TASK_SECRET": TASK_SECRET,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = Settings(
        secrets_backend="env", task_auth="shared-secret", functions_base_url=base, _env_file=None
    )
    container = Container(settings)
    ports = {"state": MemoryState(), "tasks": Queue(), "inbound": AsyncQueue()}
    # The emulators' stand-ins, and the functions' own secrets (the caller's may differ).
    secrets = EnvSecretSource(
        environ={k: env[k] for k in (CHANNEL_SECRET, TASK_SECRET_NAME)}, dotenv_path=None
    )
    container._built.update(
        channel_state=ports["state"],
        task_queue=ports["tasks"],
        async_task_queue=ports["inbound"],
        secrets=secrets,
    )
    reset_container(container)
    try:
        with serve_in_thread(build_app(functions), port=port):
            yield {"base": base, **ports}
    finally:
        reset_container(None)


def test_the_scheduled_job_opens_a_channel_whose_notices_the_webhook_accepts(
    stack: dict[str, Any], fake: FakeCalendarClient
) -> None:
    with requests.Session() as http:
        http.trust_env = False
        job = http.post(
            f"{stack['base']}/google_calendar_watch",
            headers={"x-atende-task-token": TASK_SECRET},
            timeout=30,
        )
        assert job.status_code == 200, job.text
        assert job.json() == {
            "outcome": "done",
            "calendars": 1,
            "created": 1,
            "renewed": 0,
            "kept": 0,
            "stopped": 0,
            "failed": 0,
            "syncs_requested": 1,
        }
        refused = http.post(f"{stack['base']}/google_calendar_watch", timeout=30)
        assert refused.status_code == 401
    [channel] = fake.channels()
    assert channel["address"] == f"{stack['base']}/google_calendar_webhook"
    assert fake.notify(channel["id"], state="sync") == 200
    assert fake.notify(channel["id"]) == 200
    [event] = stack["inbound"].events()
    assert isinstance(event, CalendarSyncRequested) and event.watch_id == channel["id"]
    assert InboundTask.model_validate_json(stack["inbound"].tasks[0].body).tenant_id == TENANT


def test_simulate_books_in_the_fake_and_delivers_the_notice(
    stack: dict[str, Any], fake: FakeCalendarClient
) -> None:
    assert sample.simulate("Retorno às 10h", "5511988887777") == 0
    [booked] = fake.events(CALENDAR)
    assert booked["summary"] == "Retorno às 10h"
    assert booked["extendedProperties"]["private"]["atende_contact"] == "whatsapp:5511988887777"
    starts = datetime.fromisoformat(booked["start"]["dateTime"])
    assert timedelta(hours=23) < starts - datetime.now(UTC) <= timedelta(hours=25)
    [notice] = stack["inbound"].events()
    assert isinstance(notice, CalendarSyncRequested) and notice.calendar_id == CALENDAR
    # What process_inbound does with that notice: the appointment, for the contact.
    sync = GoogleCalendarSync(CalendarApi(fake.api_base_url, 10), MemoryState, datetime_clock())
    [change] = sync.changes(TENANT, CALENDAR).events
    assert isinstance(change, CalendarEventCreated)
    assert change.contact_ref == "whatsapp:5511988887777" and change.summary == "Retorno às 10h"


def test_simulate_reports_a_refused_notice(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CALENDAR_CHANNEL_SECRET", "not-the-webhooks-secret")
    assert sample.simulate("Consulta", "5511988887777") == 1
    assert stack["inbound"].tasks == []


def test_simulate_says_when_the_fake_is_not_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ATENDE_GOOGLE_CALENDAR_API_BASE_URL", f"http://127.0.0.1:{free_port()}/calendar/v3"
    )
    monkeypatch.setenv("GOOGLE_CALENDAR_CHANNEL_SECRET", SECRET)
    with pytest.raises(requests.ConnectionError):
        sample.simulate("Consulta", "5511988887777")


def datetime_clock() -> Any:
    class Now:
        def now(self) -> datetime:
            return datetime.now(UTC)

    return Now()
