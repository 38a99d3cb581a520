"""The composition root finds this channel's connector, calendar sync and job by name."""

from __future__ import annotations

from typing import Any

import pytest
from gcal_support import CALENDAR, TENANT, FixedClock, MemoryState, secret_source

from atende.bootstrap import Container
from atende.channels.base import ChannelDeps
from atende.channels.google_calendar import wiring
from atende.channels.google_calendar.sync import GoogleCalendarSync
from atende.channels.google_calendar.watch import WatchRenewer
from atende.channels.google_calendar.writer import CalendarWriter
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


def test_the_wiring_builds_every_part_without_calling_google(deps: ChannelDeps) -> None:
    connector = wiring.connector(deps)
    assert connector.channel == "google_calendar"
    assert connector.tenant_for(_event(CALENDAR)) == TENANT
    assert connector.tenant_for(_event("nao@configurada.example")) is None
    assert isinstance(wiring.calendar_sync(deps), GoogleCalendarSync)
    assert isinstance(wiring.writer(deps), CalendarWriter)
    jobs = wiring.jobs(deps)
    assert list(jobs) == ["google_calendar_watch"]
    assert isinstance(jobs["google_calendar_watch"], WatchRenewer)


def test_a_calendar_sends_no_messages_of_its_own() -> None:
    assert not hasattr(wiring, "provider_api")
    assert not hasattr(wiring, "TEXT_LIMIT")


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
