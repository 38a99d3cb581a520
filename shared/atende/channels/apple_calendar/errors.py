"""Classify a failed CalDAV answer: an expired sync token (resync), bad credentials (fix the
configuration), transient (retry on the next poll) or permanent.

Errors carry codes and fixed sentences only: a CalDAV answer may echo calendar URLs, which
hold the iCloud account's numeric id, and event data.
"""

from __future__ import annotations

from atende.channels.apple_calendar.dav_xml import has_precondition
from atende.errors import (
    AtendeError,
    ConfigurationError,
    ProviderPermanentError,
    ProviderTransientError,
)

# Timeout, too early, throttling; every 5xx is transient as well.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})
_SERVER_ERROR = 500
_UNAUTHORIZED = 401
_NOT_FOUND = 404
#: RFC 4791 §1.3: a failed precondition is a 403 (will always fail) or a 409 (may be fixed).
_PRECONDITION_STATUSES = frozenset({403, 409})


class InvalidSyncTokenError(ProviderPermanentError):
    """RFC 6578 §3.2 DAV:valid-sync-token: the server no longer knows our token (it expired
    or the collection was reset); only a full resync can continue."""

    code = "caldav_invalid_sync_token"


class CalDavUnauthorizedError(ConfigurationError):
    """The server refused the Apple Account name or app-specific password."""

    code = "caldav_unauthorized"


UNAUTHORIZED_HELP = (
    "the CalDAV server refused the Apple Account name or the app-specific password (HTTP 401): "
    "check ATENDE_APPLE_CALENDAR_USERNAME, and create a new app-specific password at "
    "account.apple.com (Sign-In and Security > App-Specific Passwords) for the "
    "APPLE_CALENDAR_APP_PASSWORD secret; changing the account password revokes them all"
)


def classify_error(status_code: int, body: bytes) -> AtendeError:
    """The error to raise (not raised here) for a CalDAV answer other than 207."""
    if status_code in _PRECONDITION_STATUSES and has_precondition(body, "valid-sync-token"):
        return InvalidSyncTokenError("the server refused the stored sync token")
    if status_code == _UNAUTHORIZED:
        return CalDavUnauthorizedError(UNAUTHORIZED_HELP)
    if status_code >= _SERVER_ERROR or status_code in _TRANSIENT_STATUSES:
        return ProviderTransientError(
            f"CalDAV server answered HTTP {status_code}", code=f"caldav_http_{status_code}"
        )
    if 300 <= status_code < 400:
        # Credentials are never sent after a redirect: configure the address it points to.
        return ProviderPermanentError(
            f"the calendar URL redirects (HTTP {status_code}); configure the URL it redirects to",
            code="caldav_redirect",
        )
    if status_code == _NOT_FOUND:
        return ProviderPermanentError(
            "no calendar collection at the configured URL (HTTP 404)", code="caldav_not_found"
        )
    return ProviderPermanentError(
        f"CalDAV server refused the request (HTTP {status_code})",
        code=f"caldav_http_{status_code}",
    )
