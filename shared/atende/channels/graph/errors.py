"""A failed Graph API call as transient (retry) or permanent (record and stop), for every
Meta product: by HTTP status **and** Graph error code.

The status alone is not enough: Meta reports throttling as a 400 with an error code (4,
80007, 130429, 131056…), so a transient code wins over a 4xx status; Graph may also mark an
error `is_transient` itself. Each product documents its own codes (`GraphErrorCodes`: the
WhatsApp Cloud API's in whatsapp/errors.py, the Messenger Platform's in meta/errors.py); a
subcode that the product calls final wins over everything. The error carries only codes: the
body may echo the message or the recipient.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from atende.errors import AtendeError, ProviderPermanentError, ProviderTransientError

# Timeout and throttling statuses; every 5xx is transient as well.
_TRANSIENT_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class GraphErrorCodes:
    """What one Graph API product documents about its error codes."""

    #: Codes of throttling and outages: retried, whatever the HTTP status.
    transient: frozenset[int]
    #: Subcodes that refuse a send for good (outside the messaging window…): never retried,
    #: even with a 5xx or a transient code.
    permanent_subcodes: frozenset[int] = frozenset()


def classify_error(
    status_code: int, body: bytes, codes: GraphErrorCodes, *, product: str
) -> AtendeError:
    """The error to raise (not raised here) for a non-2xx Graph API answer. Its code is
    `meta_<code>` (`meta_<code>_<subcode>` with a subcode), or `http_<status>` when the body
    holds no Graph error."""
    error = _graph_error(body)
    meta_code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    transient = subcode not in codes.permanent_subcodes and (
        status_code >= 500
        or status_code in _TRANSIENT_STATUSES
        or meta_code in codes.transient
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
    """A Graph error code: an int, never a bool or a numeric string (those are not codes)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
