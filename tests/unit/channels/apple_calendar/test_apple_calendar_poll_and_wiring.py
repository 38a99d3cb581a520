"""The poll job over a fake calendar sync: every calendar, its tenant, failures isolated."""

import json
import os
from datetime import UTC, datetime

import pytest

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.apple_calendar import wiring
from atende.channels.apple_calendar.errors import CalDavUnauthorizedError
from atende.channels.apple_calendar.job import poll_calendars
from atende.channels.apple_calendar.settings import POLL_JOB
from atende.channels.apple_calendar.sync import AppleCalendarSync
from atende.channels.plugin import ChannelDeps
from atende.config import Settings
from atende.domain.events import CalendarEventCreated
from atende.errors import (
    ConfigurationError,
    ProviderPermanentError,
    ProviderTransientError,
)
from atende.observability.context import bind
from atende.ports import CalendarChanges
from atende.tasks.contracts import InboundTask

NOW = datetime(2030, 1, 10, tzinfo=UTC)
A = "https://p42-caldav.icloud.com/1/calendars/a/"
B = "https://p42-caldav.icloud.com/1/calendars/b/"


class Clock:
    def now(self):
        return NOW


@pytest.fixture(autouse=True)
def _no_stray_configuration(monkeypatch, tmp_path):
    """Only what a test sets: no `.env` in the working directory, no channel variables."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("ATENDE_APPLE_CALENDAR_") or name == "APPLE_CALENDAR_APP_PASSWORD":
            monkeypatch.delenv(name)


def created(calendar: str, uid: str) -> CalendarEventCreated:
    return CalendarEventCreated(
        channel="apple_calendar",
        event_id=f"{uid}:e1",
        account_id=calendar,
        occurred_at=NOW,
        calendar_id=calendar,
        calendar_event_id=uid,
        contact_ref="whatsapp:5511999990000",
    )


class FakeSync:
    def __init__(self, log, outcomes):
        self.log = log
        self.outcomes = outcomes

    def changes(self, tenant_id, calendar_id):
        self.log.append(("changes", calendar_id, tenant_id))
        outcome = self.outcomes[calendar_id]
        if isinstance(outcome, Exception):
            raise outcome
        return CalendarChanges(events=tuple(outcome), cursor={"token": calendar_id})

    def advance(self, calendar_id, cursor):
        self.log.append(("advance", calendar_id))


class Queue:
    def __init__(self, log):
        self.log = log
        self.tasks = []

    def enqueue(self, task):
        self.log.append(("enqueue", task.task_id))
        self.tasks.append(task)
        return True


def test_every_calendar_is_synced_for_its_own_tenant_and_reported():
    log = []
    queue = Queue(log)
    sync = FakeSync(log, {A: [created(A, "x"), created(A, "y")], B: []})
    with bind(correlation_id="corr-job"):
        report = poll_calendars(sync, lambda: queue, Clock(), {A: "clinic", B: "gym"})
    assert report == {"calendars": 2, "synced": 2, "changes": 2}
    bodies = [InboundTask.model_validate_json(t.body) for t in queue.tasks]
    assert [b.tenant_id for b in bodies] == ["clinic", "clinic"]
    assert [b.event.calendar_event_id for b in bodies] == ["x", "y"]
    assert {t.correlation_id for t in queue.tasks} == {"corr-job"}
    assert ("changes", B, "gym") in log


def test_one_failing_calendar_does_not_stop_the_others_and_the_job_still_fails():
    log = []
    queue = Queue(log)
    sync = FakeSync(log, {A: ProviderTransientError("down"), B: [created(B, "z")]})
    with pytest.raises(ProviderTransientError):
        poll_calendars(sync, lambda: queue, Clock(), {A: "t", B: "t"})
    assert ("advance", B) in log and ("advance", A) not in log
    assert len(queue.tasks) == 1


def test_a_permanent_failure_is_reported_before_a_transient_one():
    sync = FakeSync(
        [], {A: ProviderTransientError("down"), B: ProviderPermanentError("gone", code="x")}
    )
    with pytest.raises(ProviderPermanentError):
        poll_calendars(sync, lambda: Queue([]), Clock(), {A: "t", B: "t"})


def test_refused_credentials_stop_the_job_at_once(caplog):
    log = []
    sync = FakeSync(log, {A: CalDavUnauthorizedError("refused"), B: []})
    with pytest.raises(CalDavUnauthorizedError):
        poll_calendars(sync, lambda: Queue(log), Clock(), {A: "t", B: "t"})
    assert [entry[1] for entry in log] == [A]
    assert any("poll stopped" in record.getMessage() for record in caplog.records)


def test_no_calendar_configured_is_an_empty_report():
    assert poll_calendars(FakeSync([], {}), lambda: Queue([]), Clock(), {}) == {
        "calendars": 0,
        "synced": 0,
        "changes": 0,
    }


class Secrets:
    def __init__(self, values):
        self.values = values

    def get(self, name):
        return self.values.get(name)


def deps(secrets) -> ChannelDeps:
    return ChannelDeps(
        settings=Settings(_env_file=None),
        secrets=secrets,
        clock=Clock(),
        state=lambda: pytest.fail("no state needed"),
        tasks=lambda: pytest.fail("no queue needed"),
    )


def test_the_plugin_names_the_job_after_the_channel_and_builds_the_sync(monkeypatch):
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_CALENDARS", json.dumps({A: "clinic"}))
    (poll,) = wiring.PLUGIN.jobs
    assert poll.name == POLL_JOB == "apple_calendar_poll"
    assert poll.secrets == {"APPLE_CALENDAR_APP_PASSWORD"} and poll.queues == {"inbound"}
    assert callable(poll.build(deps(Secrets({}))))
    assert isinstance(wiring.PLUGIN.calendar_sync(deps(Secrets({}))), AppleCalendarSync)
    assert wiring.PLUGIN.connector is None and wiring.PLUGIN.provider_api is None


def test_a_missing_app_password_fails_closed_before_any_request(monkeypatch):
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_USERNAME", "someone@icloud.com")
    sync = wiring.PLUGIN.calendar_sync(deps(EnvSecretSource(environ={}, dotenv_path=None)))
    with pytest.raises(ConfigurationError) as raised:
        sync.changes("clinic", A)
    assert raised.value.code == "caldav_password_missing"


def test_a_missing_username_fails_closed(monkeypatch):
    monkeypatch.delenv("ATENDE_APPLE_CALENDAR_USERNAME", raising=False)
    sync = wiring.PLUGIN.calendar_sync(deps(Secrets({"APPLE_CALENDAR_APP_PASSWORD": "abcd-efgh"})))
    with pytest.raises(ConfigurationError) as raised:
        sync.changes("clinic", A)
    assert raised.value.code == "caldav_username_missing"


def test_a_calendar_url_that_would_send_the_password_in_clear_is_refused(monkeypatch):
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_USERNAME", "someone@icloud.com")
    secrets = Secrets({"APPLE_CALENDAR_APP_PASSWORD": "abcd-efgh"})
    sync = wiring.PLUGIN.calendar_sync(deps(secrets))
    with pytest.raises(ConfigurationError) as raised:
        sync.changes("clinic", "http://caldav.example.com/cal/")
    assert raised.value.code == "caldav_insecure_url"


def test_an_unknown_floating_time_zone_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("ATENDE_APPLE_CALENDAR_FLOATING_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigurationError):
        wiring.PLUGIN.calendar_sync(deps(Secrets({})))
