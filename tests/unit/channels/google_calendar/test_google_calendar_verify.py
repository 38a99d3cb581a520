"""A push notice is accepted only for a channel we made, with that channel's token."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from gcal_support import CALENDAR, CALENDARS, SECRET, TENANT, fixture

from atende.channels.google_calendar import verify as verify_module
from atende.channels.google_calendar.channel_ids import (
    CalendarIndex,
    channel_id,
    channel_token,
)
from atende.channels.google_calendar.verify import verify_notification
from atende.errors import ConfigurationError, SignatureError

INDEX = CalendarIndex(CALENDARS)
OUR_CHANNEL = channel_id(TENANT, CALENDAR, 1_764_082_800)


def notice(channel: str = OUR_CHANNEL, token: str | None = None, **extra: str) -> dict[str, str]:
    headers: dict[str, str] = fixture("notification_exists.json")
    headers["X-Goog-Channel-ID"] = channel
    headers["X-Goog-Channel-Token"] = token if token is not None else channel_token(SECRET, channel)
    headers.update(extra)
    return headers


def test_a_notice_for_our_channel_with_its_token_is_accepted() -> None:
    verify_notification(notice(), SECRET, INDEX)


def test_header_names_are_matched_whatever_their_case() -> None:
    lowered = {name.lower(): value for name, value in notice().items()}
    verify_notification(lowered, SECRET, INDEX)


def test_every_channel_of_every_configured_calendar_is_accepted() -> None:
    other = channel_id("outra", "outra@loja.example", 7)
    verify_notification(notice(other), SECRET, INDEX)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(channel_token("another-secret", OUR_CHANNEL), id="other-secret"),
        pytest.param(channel_token(SECRET, OUR_CHANNEL + "0"), id="other-channel's-token"),
        pytest.param(channel_token(SECRET, OUR_CHANNEL).upper(), id="uppercase"),
        pytest.param(channel_token(SECRET, OUR_CHANNEL)[:-1], id="truncated"),
        pytest.param(channel_token(SECRET, OUR_CHANNEL)[:-1] + "é", id="non-ascii"),
        pytest.param("x" * 257, id="oversized"),
    ],
)
def test_a_wrong_token_is_refused(token: str) -> None:
    with pytest.raises(SignatureError):
        verify_notification(notice(token=token), SECRET, INDEX)


def test_a_missing_token_is_refused() -> None:
    headers = notice()
    del headers["X-Goog-Channel-Token"]
    with pytest.raises(SignatureError):
        verify_notification(headers, SECRET, INDEX)


def test_the_documented_example_is_a_foreign_channel_and_refused() -> None:
    headers: dict[str, Any] = fixture("notification_exists.json")
    with pytest.raises(SignatureError):
        verify_notification(headers, SECRET, INDEX)


@pytest.mark.parametrize(
    "channel",
    [
        pytest.param("4ba78bf0-6a47-11e2-bcfd-0800200c9a66", id="uuid"),
        pytest.param(channel_id(TENANT, "someone-else@gmail.com", 1), id="unconfigured-calendar"),
        pytest.param(channel_id("outra", CALENDAR, 1), id="calendar-under-another-tenant"),
        pytest.param(OUR_CHANNEL.replace(f"atende-{TENANT}-", "atende-other-"), id="relabelled"),
        pytest.param(OUR_CHANNEL + "\n", id="trailing-newline"),
        pytest.param("x" * 65, id="oversized"),
    ],
)
def test_a_foreign_channel_id_is_refused_even_with_a_valid_hmac(channel: str) -> None:
    # The token is the HMAC of that very id: only the id itself is wrong.
    with pytest.raises(SignatureError):
        verify_notification(notice(channel), SECRET, INDEX)


def test_a_missing_channel_id_is_refused() -> None:
    headers = notice()
    del headers["X-Goog-Channel-ID"]
    with pytest.raises(SignatureError):
        verify_notification(headers, SECRET, INDEX)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_fails_closed(secret: str | None) -> None:
    with pytest.raises(ConfigurationError):
        verify_notification(notice(), secret, INDEX)


def test_the_refusal_never_echoes_the_token() -> None:
    token = channel_token("another-secret", OUR_CHANNEL)
    with pytest.raises(SignatureError) as caught:
        verify_notification(notice(token=token), SECRET, INDEX)
    assert token not in str(caught.value)


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verify_module.hmac, "compare_digest", spy)
    verify_notification(notice(), SECRET, INDEX)
    assert calls == [(channel_token(SECRET, OUR_CHANNEL).encode(),) * 2]
