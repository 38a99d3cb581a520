"""The composition root builds this channel's connector, calendar sync and job from its
plugin."""

from __future__ import annotations

from typing import Any

import pytest
from gcal_support import CALENDAR, TENANT, FixedClock, MemoryState, secret_source

from atende.bootstrap import Container
from atende.channels.google_calendar import wiring
from atende.channels.google_calendar.sync import GoogleCalendarSync
from atende.channels.google_calendar.watch import WatchRenewer
from atende.channels.google_calendar.writer import CalendarWriter, calendar_writer
from atende.channels.plugin import ChannelDeps
from atende.config import Settings


@pytest.fixture
def deps(monkeypatch: pytest.MonkeyPatch) -> ChannelDeps:
    monkeypatch.setenv("ATENDE_GOOGLE_CALENDAR_CALENDARS", f'{{"{CALENDAR}": "{TENANT}"}}')
    return ChannelDeps(
        settings=Settings(_env_file=None),  # type: ignore[call-arg]
        secrets=secret_source(),
        clock=FixedClock(),
        state=MemoryState,
        tasks=lambda: None,  # type: ignore[arg-type,return-value]
    )


def test_the_plugin_builds_every_part_without_calling_google(deps: ChannelDeps) -> None:
    assert wiring.PLUGIN.connector is not None and wiring.PLUGIN.calendar_sync is not None
    connector = wiring.PLUGIN.connector(deps)
    assert connector.channel == "google_calendar"
    assert connector.tenant_for(_event(CALENDAR)) == TENANT
    assert connector.tenant_for(_event("nao@configurada.example")) is None
    assert isinstance(wiring.PLUGIN.calendar_sync(deps), GoogleCalendarSync)
    assert isinstance(calendar_writer(deps), CalendarWriter)
    (watch,) = wiring.PLUGIN.jobs
    assert watch.name == "google_calendar_watch"
    assert watch.secrets == {"GOOGLE_CALENDAR_CHANNEL_SECRET"} and watch.queues == {"inbound"}
    assert isinstance(watch.build(deps), WatchRenewer)


def test_a_calendar_sends_no_messages_of_its_own() -> None:
    assert wiring.PLUGIN.provider_api is None
    assert wiring.PLUGIN.text_limit is None


def test_the_scheduled_function_name_reaches_the_job(
    deps: ChannelDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = Container(Settings(secrets_backend="env", _env_file=None))  # type: ignore[call-arg]
    assert isinstance(container.job("google_calendar_watch"), WatchRenewer)
    assert isinstance(container.calendar_sync("google_calendar"), GoogleCalendarSync)


def _event(calendar: str) -> Any:
    from datetime import UTC, datetime

    from atende.domain.events import CalendarSyncRequested

    return CalendarSyncRequested(
        channel="google_calendar",
        event_id="c:2",
        account_id=calendar,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        calendar_id=calendar,
    )
