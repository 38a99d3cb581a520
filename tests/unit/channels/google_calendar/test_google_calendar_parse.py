"""A verified notice: `sync` is only acknowledged, a change becomes one sync request."""

from __future__ import annotations

import pytest
from gcal_support import CALENDAR, CALENDARS, NOW, SECRET, TENANT, fixture

from atende.channels.google_calendar.channel_ids import CalendarIndex, channel_id, channel_token
from atende.channels.google_calendar.parse import parse_notification
from atende.domain.events import CalendarSyncRequested, UnsupportedEvent
from atende.errors import MalformedPayloadError

INDEX = CalendarIndex(CALENDARS)
CHANNEL = channel_id(TENANT, CALENDAR, 1_764_082_800)


def ours(name: str, **extra: str) -> dict[str, str]:
    headers: dict[str, str] = fixture(name)
    headers["X-Goog-Channel-ID"] = CHANNEL
    headers["X-Goog-Channel-Token"] = channel_token(SECRET, CHANNEL)
    headers.update(extra)
    return headers


def test_the_sync_message_opening_a_channel_yields_nothing_to_process() -> None:
    assert parse_notification(ours("notification_sync.json"), INDEX, NOW) == []


@pytest.mark.parametrize("name", ["notification_exists.json", "notification_not_exists.json"])
def test_a_change_notice_becomes_one_sync_request_for_its_calendar(name: str) -> None:
    headers = ours(name)
    [event] = parse_notification(headers, INDEX, NOW)
    assert isinstance(event, CalendarSyncRequested)
    assert event.channel == "google_calendar"
    assert event.event_id == f"{CHANNEL}:{headers['X-Goog-Message-Number']}"
    assert event.account_id == event.calendar_id == CALENDAR
    assert event.watch_id == CHANNEL
    assert event.occurred_at == NOW


def test_the_notice_is_kept_without_its_token() -> None:
    [event] = parse_notification(ours("notification_exists.json"), INDEX, NOW)
    assert event.raw == {
        "x-goog-channel-id": CHANNEL,
        "x-goog-message-number": "10",
        "x-goog-resource-id": "ret08u3rv24htgh289g",
        "x-goog-resource-state": "exists",
        "x-goog-resource-uri": (
            "https://www.googleapis.com/calendar/v3/calendars/my_calendar@gmail.com/events"
        ),
        "x-goog-channel-expiration": "Tue, 19 Nov 2013 01:13:52 GMT",
    }


def test_two_notices_on_one_channel_are_two_events_and_a_repeat_is_the_same_one() -> None:
    first = parse_notification(ours("notification_exists.json"), INDEX, NOW)
    again = parse_notification(ours("notification_exists.json"), INDEX, NOW)
    later = parse_notification(
        ours("notification_exists.json", **{"X-Goog-Message-Number": "12"}), INDEX, NOW
    )
    assert first[0].event_id == again[0].event_id != later[0].event_id


def test_an_unknown_resource_state_is_kept_as_unsupported() -> None:
    headers = ours("notification_exists.json", **{"X-Goog-Resource-State": "update"})
    [event] = parse_notification(headers, INDEX, NOW)
    assert isinstance(event, UnsupportedEvent)
    assert event.reason == "unsupported_resource_state:update"
    assert event.account_id == CALENDAR


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Goog-Resource-State", ""),
        ("X-Goog-Message-Number", ""),
        ("X-Goog-Message-Number", "ten"),
        ("X-Goog-Message-Number", "-1"),
        ("X-Goog-Message-Number", "١٠"),
        ("X-Goog-Message-Number", "9" * 21),
    ],
)
def test_malformed_headers_are_a_malformed_payload(header: str, value: str) -> None:
    with pytest.raises(MalformedPayloadError):
        parse_notification(ours("notification_exists.json", **{header: value}), INDEX, NOW)


def test_missing_state_or_number_is_a_malformed_payload() -> None:
    for name in ("X-Goog-Resource-State", "X-Goog-Message-Number"):
        headers = ours("notification_exists.json")
        del headers[name]
        with pytest.raises(MalformedPayloadError):
            parse_notification(headers, INDEX, NOW)
