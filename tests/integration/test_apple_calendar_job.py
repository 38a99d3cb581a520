"""The `apple_calendar_poll` job end to end against Radicale (started here): tasks enqueued
before the token moves, a second poll enqueuing nothing, a failed enqueue moving nothing;
then the real function entry point over HTTP, called by `atende simulate apple_calendar`."""

from __future__ import annotations

import copy
import json
import shutil
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from atende.adapters.clock import SystemClock
from atende.bootstrap import Container, reset_container
from atende.channels.apple_calendar import sample, wiring
from atende.channels.apple_calendar.client import Credentials
from atende.channels.apple_calendar.state import SyncState, state_key
from atende.channels.plugin import ChannelDeps
from atende.config import Settings
from atende.devstack.functions_app import build_app
from atende.devstack.processes import serve_in_thread
from atende.devstack.radicale_server import RadicaleServer
from atende.domain.events import CalendarEventCreated
from atende.errors import ConfigurationError, TransientError
from atende.tasks.contracts import PROCESS_INBOUND, InboundTask

REPO = Path(__file__).resolve().parents[2]
CONTACT = "whatsapp:5511999990000"
TASK_SECRET = "it-task-secret"


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    with RadicaleServer(Path(tmp_path_factory.mktemp("caldav-job"))) as server:
        yield server


@pytest.fixture
def calendar(radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh calendar, configured for the `demo` tenant as the dev stack would."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    url = radicale.make_calendar(f"job-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_CALENDARS", json.dumps({url: "demo"}))
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_USERNAME", radicale.username)
    monkeypatch.setenv("APPLE_CALENDAR_APP_PASSWORD", radicale.password)
    return url


class Log(list):
    pass


class MemoryState:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.docs: dict[str, dict] = {}

    def get(self, key):
        return copy.deepcopy(self.docs.get(key))

    def put(self, key, value):
        self.log.append(("put", key))
        self.docs[key] = json.loads(json.dumps(value))

    def with_prefix(self, prefix):
        return {k: v for k, v in self.docs.items() if k.startswith(prefix)}


class RecordingQueue:
    def __init__(self, log: Log, fail: bool = False) -> None:
        self.log = log
        self.fail = fail
        self.tasks = []
        self.names: set[str] = set()

    def enqueue(self, task):
        if self.fail:
            raise TransientError("queue unavailable")
        self.log.append(("enqueue", task.task_id))
        self.tasks.append(task)
        fresh = task.task_id not in self.names
        self.names.add(task.task_id)
        return fresh


class EnvSecrets:
    def __init__(self, values):
        self.values = values

    def get(self, name):
        return self.values.get(name)


def job(radicale, state, queue):
    deps = ChannelDeps(
        settings=Settings(_env_file=None),
        secrets=EnvSecrets({"APPLE_CALENDAR_APP_PASSWORD": radicale.password}),
        clock=SystemClock(),
        state=lambda: state,
        tasks=lambda: queue,
    )
    (poll,) = wiring.PLUGIN.jobs
    assert poll.name == "apple_calendar_poll"
    return poll.build(deps)


def add(calendar, radicale, name, days, summary="Consulta"):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    uid = f"{name}@atende.test"
    ics = sample.event_ics(uid, summary, when, contact_ref=CONTACT)
    sample.put_event(calendar, uid, ics, Credentials(radicale.username, radicale.password))


def test_the_job_enqueues_each_change_before_the_token_moves_and_a_second_poll_adds_nothing(
    calendar, radicale
):
    add(calendar, radicale, "first", 2, "Consulta de retorno")
    log = Log()
    state, queue = MemoryState(log), RecordingQueue(log)
    poll = job(radicale, state, queue)

    report = poll()

    assert report == {"calendars": 1, "synced": 1, "changes": 1}
    assert [entry[0] for entry in log] == ["enqueue", "put"]
    (task,) = queue.tasks
    assert (task.queue, task.target) == ("inbound", PROCESS_INBOUND)
    body = InboundTask.model_validate_json(task.body)
    assert body.tenant_id == "demo"
    assert isinstance(body.event, CalendarEventCreated)
    assert (body.event.summary, body.event.contact_ref) == ("Consulta de retorno", CONTACT)

    assert poll() == {"calendars": 1, "synced": 1, "changes": 0}
    assert len(queue.tasks) == 1

    add(calendar, radicale, "second", 3)
    assert poll()["changes"] == 1
    assert [
        InboundTask.model_validate_json(t.body).event.calendar_event_id for t in queue.tasks
    ] == [
        "first@atende.test",
        "second@atende.test",
    ]


def test_a_failed_enqueue_leaves_the_token_so_the_next_poll_brings_the_same_tasks(
    calendar, radicale
):
    add(calendar, radicale, "retry", 2)
    log = Log()
    state = MemoryState(log)
    with pytest.raises(TransientError):
        job(radicale, state, RecordingQueue(log, fail=True))()
    assert state.docs == {}

    queue = RecordingQueue(log)
    assert job(radicale, state, queue)()["changes"] == 1
    stored = SyncState.from_json(state.get(state_key(calendar)))
    assert stored.token and next(iter(stored.members)).endswith("retry@atende.test.ics")


class FakeContainer(Container):
    """The real composition root, with in-memory state and queue instead of Google's."""

    def __init__(self, settings, state, queue):
        super().__init__(settings)
        self._fake_state = state
        self._fake_queue = queue

    @property
    def channel_state(self):
        return self._fake_state

    @property
    def task_queue(self):
        return self._fake_queue


@pytest.fixture
def functions(calendar, monkeypatch, tmp_path) -> Iterator[tuple[str, RecordingQueue]]:
    """functions/apple_calendar_poll/main.py served like the dev stack serves it."""
    functions_dir = tmp_path / "functions"
    shutil.copytree(
        REPO / "functions" / "apple_calendar_poll", functions_dir / "apple_calendar_poll"
    )
    monkeypatch.setenv("ATENDE_TASK_SECRET", TASK_SECRET)
    for name in ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE"):
        monkeypatch.setenv(name, "")
    log = Log()
    queue = RecordingQueue(log)
    settings = Settings(_env_file=None, task_auth="shared-secret", secrets_backend="env")
    reset_container(FakeContainer(settings, MemoryState(log), queue))
    saved_path = list(sys.path)
    try:
        with serve_in_thread(build_app(functions_dir)) as url:
            monkeypatch.setenv("ATENDE_FUNCTIONS_BASE_URL", url)
            yield url, queue
    finally:
        sys.path[:] = saved_path
        reset_container(None)


def test_simulate_puts_an_appointment_for_tomorrow_and_the_poll_function_announces_it(functions):
    _, queue = functions
    assert sample.simulate("Consulta amanhã", "5511988887777") == 0
    (task,) = queue.tasks
    event = InboundTask.model_validate_json(task.body).event
    assert isinstance(event, CalendarEventCreated)
    assert (event.summary, event.contact_ref) == ("Consulta amanhã", "whatsapp:5511988887777")
    assert event.starts_at is not None
    assert timedelta(hours=22) < event.starts_at - datetime.now(UTC) < timedelta(hours=25)


def test_the_poll_function_refuses_a_caller_without_the_task_secret(functions, calendar, radicale):
    url, queue = functions
    add(calendar, radicale, "guarded", 2)
    assert sample.call_poll_job(url, "not-the-secret").status_code == 401
    assert queue.tasks == []
    response = sample.call_poll_job(url, TASK_SECRET)
    assert response.status_code == 200
    assert response.json()["changes"] == 1


def test_the_poll_function_fails_closed_without_the_app_password(functions, monkeypatch):
    url, queue = functions
    monkeypatch.delenv("APPLE_CALENDAR_APP_PASSWORD")
    response = sample.call_poll_job(url, TASK_SECRET)
    # Configuration can be fixed: 503, so Cloud Scheduler retries it (and it goes through
    # once the operator adds the password).
    assert response.status_code == 503
    assert response.json() == {"outcome": "caldav_password_missing"}
    assert queue.tasks == []


def test_simulate_refuses_to_write_to_a_calendar_that_is_not_local(calendar, monkeypatch):
    monkeypatch.setenv(
        "ATENDE_APPLE_CALENDAR_CALENDARS",
        json.dumps({"https://p42-caldav.icloud.com/1/calendars/home/": "demo"}),
    )
    with pytest.raises(ConfigurationError):
        sample.simulate("Consulta", "5511988887777")
