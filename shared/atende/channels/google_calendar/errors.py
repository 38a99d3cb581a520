"""Classify a failed Google Calendar API response as transient (retry) or permanent.

Following Google's "Handle API errors" guide: 429 and 403 with the reason
`rateLimitExceeded` or `userRateLimitExceeded` are throttling (back off and retry), as are
5xx and 408. A 410 on a list with a sync token (`fullSyncRequired`) is its own error: the
sync answers it with a full sync. Everything else is permanent. The error carries only the
status and Google's reason: the body may echo event data.
"""

from __future__ import annotations

import json
from typing import Any

from atende.errors import AtendeError, ProviderPermanentError, ProviderTransientError

_TRANSIENT_STATUSES = frozenset({408, 429})
_THROTTLING_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
GONE = 410


class SyncTokenGoneError(ProviderPermanentError):
    """The sync token (or a page of its sync) is no longer valid: a full sync is needed."""

    code = "google_410_full_sync_required"


def reasons(body: bytes) -> list[str]:
    """Google's `error.errors[].reason` values of an error body (none if it has no such)."""
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return []
    error = document.get("error") if isinstance(document, dict) else None
    items = error.get("errors") if isinstance(error, dict) else None
    if not isinstance(items, list):
        return []
    return [
        item["reason"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("reason"), str)
    ]


def classify_error(status_code: int, body: bytes) -> AtendeError:
    """The error to raise (not raised here) for a non-2xx Calendar API response."""
    found = reasons(body)
    reason = found[0] if found else None
    code = f"google_{status_code}" + (f"_{reason}" if reason else "")
    detail = f"Google Calendar API answered HTTP {status_code}" + (f" ({reason})" if reason else "")
    if status_code == GONE:
        return SyncTokenGoneError(detail, code=code)
    throttled = status_code == 403 and any(r in _THROTTLING_REASONS for r in found)
    if status_code >= 500 or status_code in _TRANSIENT_STATUSES or throttled:
        return ProviderTransientError(detail, code=code)
    return ProviderPermanentError(detail, code=code)
