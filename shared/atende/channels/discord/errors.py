"""Classify a failed Discord API response as transient (retry) or permanent (record).

Discord answers `{"code": <JSON error code>, "message": ...}` for errors and
`{"message", "retry_after", "global"}` for 429. Throttling and overload pass; a dead
interaction webhook (10015 Unknown Webhook, 50027 Invalid Webhook Token — the token expired
after 15 minutes) never comes back, and Discord asks apps to stop calling a webhook that
answered 404. The resulting error carries only codes: the body may echo the message.
"""

from __future__ import annotations

import json
from typing import Any

from atende.errors import AtendeError, ProviderPermanentError, ProviderTransientError

#: JSON error codes worth retrying whatever the status.
TRANSIENT_DISCORD_CODES: frozenset[int] = frozenset(
    {
        130000,  # API resource is currently overloaded. Try again a little later.
    }
)
#: JSON error codes of an interaction webhook that is gone for good.
EXPIRED_INTERACTION_CODES: frozenset[int] = frozenset(
    {
        10015,  # Unknown Webhook
        50027,  # Invalid Webhook Token
    }
)
_TRANSIENT_STATUSES = frozenset({408, 429})


def classify_error(status_code: int, body: bytes) -> AtendeError:
    """The error to raise (not raised here) for a non-2xx Discord API response."""
    document = _document(body)
    discord_code = _int(document.get("code"))
    transient = (
        status_code >= 500
        or status_code in _TRANSIENT_STATUSES
        or discord_code in TRANSIENT_DISCORD_CODES
    )
    detail = f"Discord API answered HTTP {status_code}"
    if discord_code is not None:
        detail += f" with error code {discord_code}"
    if status_code == 429:
        retry_after = document.get("retry_after")
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
            detail += f" (retry after {float(retry_after):.2f} s)"
        return ProviderTransientError(detail, code="discord_rate_limited")
    if discord_code in EXPIRED_INTERACTION_CODES:
        return ProviderPermanentError(detail, code="interaction_expired")
    code = f"discord_{discord_code}" if discord_code is not None else f"http_{status_code}"
    if transient:
        return ProviderTransientError(detail, code=code)
    return ProviderPermanentError(detail, code=code)


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
