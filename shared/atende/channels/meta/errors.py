"""Classify a failed Send API (Messenger, Instagram) response as transient or permanent.

WhatsApp's classifier (`channels/whatsapp/errors.py`) knows Cloud API codes (131xxx); the
Messenger Platform reports its own: throttling as 4, 17, 32, 613 and the business-use-case
limits 80001/80002/80006, "temporary send message failure" as 1200, and permanent refusals
such as 10 with subcode 2018278 (outside the messaging window), 551 or subcode 1545041 (the
person is not available), 100 (invalid parameter), 190 (token) and 200-299 (permission).
As with WhatsApp, a transient Meta code wins over a 4xx status, and the error carries only
codes: the body may echo the message or the recipient.
"""

from __future__ import annotations

import json
from typing import Any

from atende.errors import AtendeError, ProviderPermanentError, ProviderTransientError

TRANSIENT_META_CODES: frozenset[int] = frozenset(
    {
        1,  # API Unknown: possibly temporary; Meta advises retrying.
        2,  # API Service: "An unexpected error has occurred. Please retry your request later."
        4,  # Application request limit reached.
        17,  # User (account-level) request limit reached.
        32,  # Page request limit reached.
        613,  # "Calls to this API have exceeded the rate limit."
        1200,  # "Temporary send message failure. Please try again later."
        80001,  # Business use case rate limit: Pages.
        80002,  # Business use case rate limit: Instagram.
        80006,  # Business use case rate limit: Messenger.
    }
)
#: Documented permanent refusals, kept here so the tests pin them down: none is retried.
PERMANENT_META_CODES: frozenset[int] = frozenset({10, 100, 190, 200, 230, 551})
#: Subcodes that say why a send was refused for good.
PERMANENT_META_SUBCODES: frozenset[int] = frozenset(
    {
        2018278,  # (10) the message is outside the allowed window (24 h after the contact).
        2534022,  # (10) outside the allowed window, newer policy message.
        1545041,  # (551 / 200) this person isn't available right now.
        2018001,  # (100) no matching user found.
        2018108,  # (200) the recipient cannot be messaged by this app yet.
    }
)
# Timeout and throttling statuses; every 5xx is transient as well.
_TRANSIENT_STATUSES = frozenset({408, 429})


def classify_error(status_code: int, body: bytes, *, product: str) -> AtendeError:
    """The error to raise (not raised here) for a non-2xx Graph API response."""
    error = _graph_error(body)
    meta_code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    transient = subcode not in PERMANENT_META_SUBCODES and (
        status_code >= 500
        or status_code in _TRANSIENT_STATUSES
        or meta_code in TRANSIENT_META_CODES
        # Graph marks some errors retryable itself.
        or error.get("is_transient") is True
    )
    if meta_code is None:
        code = f"http_{status_code}"
    elif subcode is None:
        code = f"meta_{meta_code}"
    else:
        code = f"meta_{meta_code}_{subcode}"
    detail = f"{product} API answered HTTP {status_code}"
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
