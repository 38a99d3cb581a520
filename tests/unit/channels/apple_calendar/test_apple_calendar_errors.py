"""CalDAV answers other than 207: resync, fix the credentials, retry, or give up."""

from pathlib import Path

import pytest

from atende.channels.apple_calendar.errors import (
    CalDavUnauthorizedError,
    InvalidSyncTokenError,
    classify_error,
)
from atende.errors import ConfigurationError, ProviderPermanentError, ProviderTransientError

DATA = Path(__file__).resolve().parents[3] / "data" / "apple_calendar"
VALID_SYNC_TOKEN = (DATA / "error_valid_sync_token.xml").read_bytes()
SUPPORTED_REPORT = (DATA / "error_supported_report.xml").read_bytes()


@pytest.mark.parametrize("status", [403, 409])
def test_a_refused_sync_token_asks_for_a_full_resync(status):
    assert isinstance(classify_error(status, VALID_SYNC_TOKEN), InvalidSyncTokenError)


def test_another_precondition_is_not_a_token_problem():
    error = classify_error(403, SUPPORTED_REPORT)
    assert not isinstance(error, InvalidSyncTokenError)
    assert isinstance(error, ProviderPermanentError) and error.code == "caldav_http_403"


def test_bad_credentials_are_a_configuration_error_that_says_how_to_fix_them():
    error = classify_error(401, b"Access to the requested resource forbidden.")
    assert isinstance(error, CalDavUnauthorizedError) and isinstance(error, ConfigurationError)
    assert error.code == "caldav_unauthorized"
    assert "app-specific password" in str(error)
    assert "APPLE_CALENDAR_APP_PASSWORD" in str(error)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 507])
def test_timeouts_throttling_and_server_errors_are_retried(status):
    error = classify_error(status, b"")
    assert isinstance(error, ProviderTransientError)
    assert error.code == f"caldav_http_{status}"


@pytest.mark.parametrize(
    ("status", "code"),
    [(301, "caldav_redirect"), (307, "caldav_redirect"), (404, "caldav_not_found"),
     (400, "caldav_http_400"), (415, "caldav_http_415")],
)  # fmt: skip
def test_other_answers_are_permanent_with_a_code(status, code):
    error = classify_error(status, b"<html>whatever</html>")
    assert isinstance(error, ProviderPermanentError) and error.code == code
    assert "whatever" not in str(error)
