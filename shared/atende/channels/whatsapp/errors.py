"""Classify a failed WhatsApp Cloud API response as transient (retry) or permanent (record).

The HTTP status alone is not enough: Meta reports throttling as a 400 with a Graph error code
(for example 131056), so a transient Meta code wins over a 4xx status. The resulting error
carries only codes: the response body may echo the message or the recipient.
"""

from __future__ import annotations

import json
from typing import Any

from atende.errors import AtendeError, ProviderPermanentError, ProviderTransientError

TRANSIENT_META_CODES: frozenset[int] = frozenset(
    {
        1,  # API Unknown: possibly a temporary server error; Meta advises retrying.
        2,  # API Service: temporary downtime or overload.
        4,  # API Too Many Calls: app-level rate limit.
        80007,  # Rate limit issues: the WhatsApp Business Account's rate limit.
        130429,  # Rate limit hit: Cloud API throughput of the phone number reached.
        131000,  # Something went wrong: generic, unknown failure on Meta's side.
        131016,  # Service unavailable: a service is temporarily down.
        131056,  # Pair rate limit: too many messages to the same recipient in a short time.
    }
)
# Timeout and throttling statuses; every 5xx is transient as well.
_TRANSIENT_STATUSES = frozenset({408, 429})


def classify_error(status_code: int, body: bytes) -> AtendeError:
    """The error to raise (not raised here) for a non-2xx Graph API response."""
    error = _graph_error(body)
    meta_code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    transient = (
        status_code >= 500
        or status_code in _TRANSIENT_STATUSES
        or meta_code in TRANSIENT_META_CODES
        # Graph marks some errors retryable itself.
        or error.get("is_transient") is True
    )
    code = f"meta_{meta_code}" if meta_code is not None else f"http_{status_code}"
    detail = f"WhatsApp API answered HTTP {status_code}"
    if meta_code is not None:
        detail += f" with error code {meta_code}"
        if subcode is not None:
            detail += f" (subcode {subcode})"
    if transient:
        return ProviderTransientError(detail, code=code)
    return ProviderPermanentError(detail, code=code)


def _graph_error(body: bytes) -> dict[str, Any]:
    """The {"error": {...}} object of a Graph API error body, or {} when there is none."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
