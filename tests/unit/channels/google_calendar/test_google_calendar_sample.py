"""The sample notices `atende simulate google_calendar` delivers."""

from __future__ import annotations

import pytest
from gcal_support import CALENDAR, CALENDARS, SECRET, TENANT, secret_source

from atende.channels.google_calendar import sample
from atende.channels.google_calendar.channel_ids import CalendarIndex
from atende.channels.google_calendar.verify import verify_notification
from atende.errors import ConfigurationError


@pytest.fixture(autouse=True)
def calendars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_GOOGLE_CALENDAR_CALENDARS", f'{{"{CALENDAR}": "{TENANT}"}}')


def test_the_sample_notice_is_for_the_first_configured_calendar() -> None:
    headers = sample.signed_headers(b"", secret_source())
    verify_notification(headers, SECRET, CalendarIndex({CALENDAR: TENANT}))
    assert headers["X-Goog-Resource-State"] == "exists"
    assert headers["X-Goog-Channel-ID"].startswith(f"atende-{TENANT}-")
    assert headers["X-Goog-Channel-Expiration"].endswith(" GMT")


def test_without_configuration_the_dev_calendar_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATENDE_GOOGLE_CALENDAR_CALENDARS")
    monkeypatch.chdir("/")  # no .env to read
    assert sample.dev_calendar() == (sample.DEV_CALENDAR_ID, sample.DEV_TENANT)


def test_a_sync_message_is_number_one_and_changes_count_up() -> None:
    first = sample.notice_headers(secret_source(), state="sync")
    assert first["X-Goog-Message-Number"] == "1"
    a = int(sample.notice_headers(secret_source())["X-Goog-Message-Number"])
    b = int(sample.notice_headers(secret_source(), message_number=a + 5)["X-Goog-Message-Number"])
    assert b == a + 5
    verify_notification(first, SECRET, CalendarIndex(CALENDARS))


def test_a_notice_cannot_be_made_without_the_channel_secret() -> None:
    with pytest.raises(ConfigurationError):
        sample.signed_headers(b"", secret_source(None))


def test_simulate_never_books_in_a_real_google_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATENDE_GOOGLE_CALENDAR_API_BASE_URL", raising=False)
    monkeypatch.chdir("/")
    with pytest.raises(ConfigurationError, match="local Calendar fake"):
        sample.simulate("Consulta", "5511999990000")
