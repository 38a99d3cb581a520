"""Google's documented errors, classified as Google says to handle them."""

from __future__ import annotations

import json

import pytest
from gcal_support import DATA

from atende.channels.google_calendar.errors import SyncTokenGoneError, classify_error
from atende.errors import ProviderPermanentError, ProviderTransientError


def body(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (403, "error_403_rate_limit_exceeded.json"),
        (403, "error_403_user_rate_limit_exceeded.json"),
        (429, "error_429_rate_limit_exceeded.json"),
        (500, "error_500_backend_error.json"),
    ],
)
def test_throttling_and_backend_errors_are_retried(status: int, name: str) -> None:
    error = classify_error(status, body(name))
    assert isinstance(error, ProviderTransientError)
    reason = json.loads(body(name))["error"]["errors"][0]["reason"]
    assert error.code == f"google_{status}_{reason}"


@pytest.mark.parametrize("status", [408, 502, 503, 504])
def test_timeouts_and_gateway_errors_without_a_body_are_retried(status: int) -> None:
    assert isinstance(classify_error(status, b""), ProviderTransientError)


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (401, "error_401_invalid_credentials.json"),
        (403, "error_403_quota_exceeded.json"),
        (404, "error_404_not_found.json"),
    ],
)
def test_credentials_calendar_limits_and_missing_calendars_are_permanent(
    status: int, name: str
) -> None:
    error = classify_error(status, body(name))
    assert isinstance(error, ProviderPermanentError)
    assert not isinstance(error, SyncTokenGoneError)


def test_an_expired_sync_token_asks_for_a_full_sync() -> None:
    error = classify_error(410, body("error_410_full_sync_required.json"))
    assert isinstance(error, SyncTokenGoneError)
    assert error.code == "google_410_fullSyncRequired"


def test_a_body_that_is_not_googles_error_still_classifies_by_status() -> None:
    assert classify_error(400, b"<html>").code == "google_400"
    assert classify_error(403, b'{"error": "nope"}').code == "google_403"


def test_the_error_never_carries_the_body() -> None:
    secret_bit = b'{"error": {"errors": [{"reason": "x", "message": "5511999990000"}]}}'
    assert "5511999990000" not in str(classify_error(400, secret_bit))
