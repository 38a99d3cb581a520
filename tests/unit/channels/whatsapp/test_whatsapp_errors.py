"""Graph API failures map to retry (transient) or record-and-stop (permanent), PII-free."""

from __future__ import annotations

import json

import pytest

from atende.channels.whatsapp.errors import TRANSIENT_META_CODES, classify_error
from atende.errors import ProviderPermanentError, ProviderTransientError


def graph_error(code: int, subcode: int | None = None, **extra: object) -> bytes:
    error: dict[str, object] = {
        "message": "(#131047) Re-engagement message to 5511999990000: Olá Maria",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjKlMnOp",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


CASES = [
    # status, body, transient?, code
    (400, graph_error(131056), True, "meta_131056"),  # pair rate limit arrives as a 400
    (400, graph_error(130429), True, "meta_130429"),
    (400, graph_error(131000), True, "meta_131000"),
    (503, graph_error(131016), True, "meta_131016"),
    (400, graph_error(80007), True, "meta_80007"),
    (403, graph_error(4), True, "meta_4"),
    (500, graph_error(2), True, "meta_2"),
    (500, graph_error(1), True, "meta_1"),
    (400, graph_error(131047), False, "meta_131047"),  # outside the 24-hour window
    (400, graph_error(131048), False, "meta_131048"),
    (400, graph_error(131026), False, "meta_131026"),
    (400, graph_error(100, 2494010), False, "meta_100"),
    (401, graph_error(190, 463), False, "meta_190"),
    (500, graph_error(131047), True, "meta_131047"),  # any 5xx may pass
    (500, b"", True, "http_500"),
    (502, b"<html>Bad Gateway</html>", True, "http_502"),
    (429, b"", True, "http_429"),
    (408, b"", True, "http_408"),
    (404, b"<html>Not Found</html>", False, "http_404"),
    (400, b"not json", False, "http_400"),
    (400, b'{"error": "flat string"}', False, "http_400"),
    (400, b"[1, 2]", False, "http_400"),
    (400, json.dumps({"error": {"code": True}}).encode(), False, "http_400"),
    (400, json.dumps({"error": {"code": "131056"}}).encode(), False, "http_400"),
    (400, graph_error(100, is_transient=True), True, "meta_100"),
]


@pytest.mark.parametrize(("status", "body", "transient", "code"), CASES)
def test_classification(status: int, body: bytes, transient: bool, code: str) -> None:
    error = classify_error(status, body)
    expected = ProviderTransientError if transient else ProviderPermanentError
    assert type(error) is expected
    assert error.code == code


def test_message_carries_codes_but_never_the_body() -> None:
    error = classify_error(400, graph_error(131047))
    message = str(error)
    assert "131047" in message
    assert "400" in message
    assert "5511999990000" not in message
    assert "Maria" not in message
    assert "fbtrace" not in message
    assert "AbCdEfGhIjKlMnOp" not in message


def test_subcode_is_reported() -> None:
    assert "2494010" in str(classify_error(400, graph_error(100, 2494010)))


def test_transient_codes_are_the_documented_throttling_and_outage_codes() -> None:
    assert {4, 80007, 130429, 131000, 131016, 131056, 2, 1} == TRANSIENT_META_CODES
    assert 131047 not in TRANSIENT_META_CODES
