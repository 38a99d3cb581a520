"""LinkedIn API failures map to retry (transient) or record-and-stop (permanent), PII-free."""

from __future__ import annotations

import json

import pytest

from atende.channels.linkedin.errors import classify_error
from atende.errors import ProviderPermanentError, ProviderTransientError


def li_error(status: int, service_code: int | None = None) -> bytes:
    error: dict[str, object] = {
        "message": "Comment create throttled for urn:li:person:Dk968RHxiO: Vocês atendem?",
        "status": status,
    }
    if service_code is not None:
        error["serviceErrorCode"] = service_code
    return json.dumps(error).encode()


@pytest.mark.parametrize(
    ("status", "body", "transient", "code"),
    [
        (429, li_error(429, 101), True, "linkedin_429_101"),
        (429, b"", True, "http_429"),
        (500, li_error(500), True, "http_500"),
        (503, b"<html>unavailable</html>", True, "http_503"),
        (408, b"", True, "http_408"),
        (400, li_error(400, 100), False, "linkedin_400_100"),
        (401, li_error(401, 65601), False, "linkedin_401_65601"),
        (403, li_error(403, 100), False, "linkedin_403_100"),
        (404, li_error(404), False, "http_404"),
        (422, li_error(422), False, "http_422"),
    ],
)
def test_classification(status: int, body: bytes, transient: bool, code: str) -> None:
    error = classify_error(status, body)
    assert isinstance(error, ProviderTransientError if transient else ProviderPermanentError)
    assert error.code == code


def test_the_error_never_quotes_linkedins_message() -> None:
    error = classify_error(429, li_error(429, 101))
    assert "Dk968RHxiO" not in str(error) and "atendem" not in str(error)


@pytest.mark.parametrize("body", [b'{"serviceErrorCode": true}', b'{"serviceErrorCode": "7"}'])
def test_an_odd_service_code_is_ignored(body: bytes) -> None:
    assert classify_error(400, body).code == "http_400"
