"""Graph API failures map to retry (transient) or record-and-stop (permanent) by HTTP status
and Graph error code, whatever the product, and the error never carries the body."""

from __future__ import annotations

import json

import pytest

from atende.channels.graph.errors import GraphErrorCodes, classify_error
from atende.errors import ProviderPermanentError, ProviderTransientError

CODES = GraphErrorCodes(transient=frozenset({4, 131056}), permanent_subcodes=frozenset({2018278}))


def graph_error(code: object, subcode: int | None = None, **extra: object) -> bytes:
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
    (400, graph_error(131056), True, "meta_131056"),  # throttling arrives as a 400
    (403, graph_error(4), True, "meta_4"),
    (400, graph_error(131047), False, "meta_131047"),
    (400, graph_error(100, 2494010), False, "meta_100_2494010"),
    (401, graph_error(190, 463), False, "meta_190_463"),
    (500, graph_error(131047), True, "meta_131047"),  # any 5xx may pass
    (400, graph_error(100, is_transient=True), True, "meta_100"),  # Graph says retryable
    (500, graph_error(2, 2018278), False, "meta_2_2018278"),  # a final subcode wins
    (400, graph_error(4, 2018278), False, "meta_4_2018278"),
    (400, graph_error(100, 2018278, is_transient=True), False, "meta_100_2018278"),
    (500, b"", True, "http_500"),
    (502, b"<html>Bad Gateway</html>", True, "http_502"),
    (429, b"", True, "http_429"),
    (408, b"", True, "http_408"),
    (404, b"<html>Not Found</html>", False, "http_404"),
    (400, b"not json", False, "http_400"),
    (400, b'{"error": "flat string"}', False, "http_400"),
    (400, b"[1, 2]", False, "http_400"),
    (400, b"[" * 100_000, False, "http_400"),  # too deep to decode
    (400, graph_error(True), False, "http_400"),  # a bool is no code
    (400, graph_error("131056"), False, "http_400"),  # nor is a numeric string
]


@pytest.mark.parametrize(("status", "body", "transient", "code"), CASES)
def test_classification(status: int, body: bytes, transient: bool, code: str) -> None:
    error = classify_error(status, body, CODES, product="WhatsApp")
    assert type(error) is (ProviderTransientError if transient else ProviderPermanentError)
    assert error.code == code


def test_the_message_names_product_status_and_codes_but_never_the_body() -> None:
    message = str(classify_error(400, graph_error(131047, 2494010), CODES, product="Instagram"))
    assert "Instagram" in message
    assert "400" in message and "131047" in message and "2494010" in message
    assert "5511999990000" not in message
    assert "Maria" not in message
    assert "fbtrace" not in message and "AbCdEfGhIjKlMnOp" not in message


def test_a_product_without_final_subcodes_retries_a_transient_code_with_any_subcode() -> None:
    codes = GraphErrorCodes(transient=frozenset({4}))
    assert isinstance(
        classify_error(400, graph_error(4, 2018278), codes, product="x"), ProviderTransientError
    )
