"""Classify a failed LinkedIn API response as transient (retry) or permanent (record).

LinkedIn answers errors as `{"message", "serviceErrorCode", "status"}` with standard HTTP
statuses: 429 (rate limits, including "Comment create throttled") and 5xx pass; 408 too. Every
other 4xx — 400 bad request, 401 expired token, 403 missing permission or admin role, 404
deleted post, 422 — will fail the same way again. The error carries only codes: the message
may quote the comment.
"""

from __future__ import annotations

import json

from atende.errors import AtendeError, ProviderPermanentError, ProviderTransientError

_TRANSIENT_STATUSES = frozenset({408, 429})


def classify_error(status_code: int, body: bytes) -> AtendeError:
    """The error to raise (not raised here) for a non-2xx LinkedIn API response."""
    service_code = _service_error_code(body)
    transient = status_code >= 500 or status_code in _TRANSIENT_STATUSES
    code = f"http_{status_code}"
    detail = f"LinkedIn API answered HTTP {status_code}"
    if service_code is not None:
        code = f"linkedin_{status_code}_{service_code}"
        detail += f" with serviceErrorCode {service_code}"
    if transient:
        return ProviderTransientError(detail, code=code)
    return ProviderPermanentError(detail, code=code)


def _service_error_code(body: bytes) -> int | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    value = document.get("serviceErrorCode") if isinstance(document, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
