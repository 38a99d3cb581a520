"""The Messenger Platform's codes (Messenger and Instagram Send API): throttling retried,
window and availability refusals recorded, even when Meta calls them temporary."""

from __future__ import annotations

import json

import pytest

from atende.channels.graph.errors import classify_error
from atende.channels.meta.client import MetaSendApi
from atende.channels.meta.errors import PERMANENT_META_CODES, SEND_API_CODES
from atende.channels.meta.outbound import SendLimits
from atende.errors import ProviderPermanentError, ProviderTransientError


def graph_error(code: int, subcode: int | None = None, **extra: object) -> bytes:
    error: dict[str, object] = {
        "message": "(#10) This message is sent outside of allowed window. Maria 6543210987654321",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "BLBz/WZt8dN",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


CASES = [
    # status, body, transient?, code
    (400, graph_error(10, 2018278), False, "meta_10_2018278"),  # outside the 24 h window
    (400, graph_error(10, 2534022), False, "meta_10_2534022"),
    (400, graph_error(551, 1545041), False, "meta_551_1545041"),  # person not available
    (400, graph_error(551), False, "meta_551"),
    (403, graph_error(200, 2018108), False, "meta_200_2018108"),
    (400, graph_error(100, 2018001), False, "meta_100_2018001"),  # no matching user
    (400, graph_error(100), False, "meta_100"),
    (401, graph_error(190, 463), False, "meta_190_463"),
    (403, graph_error(10), False, "meta_10"),
    (400, graph_error(1), True, "meta_1"),
    (500, graph_error(2), True, "meta_2"),
    (400, graph_error(4), True, "meta_4"),
    (400, graph_error(17), True, "meta_17"),
    (400, graph_error(32), True, "meta_32"),
    (400, graph_error(613), True, "meta_613"),  # calls exceeded the rate limit
    (400, graph_error(1200), True, "meta_1200"),  # temporary send message failure
    (400, graph_error(80006), True, "meta_80006"),
    (400, graph_error(80002), True, "meta_80002"),
    (400, graph_error(100, is_transient=True), True, "meta_100"),
    (500, graph_error(2, 2018278), False, "meta_2_2018278"),  # a window refusal is final
    (500, b"", True, "http_500"),
    (404, b"not json", False, "http_404"),
]


@pytest.mark.parametrize(("status", "body", "transient", "code"), CASES)
def test_the_send_api_classifies_with_the_messenger_platform_codes(
    status: int, body: bytes, transient: bool, code: str
) -> None:
    api = MetaSendApi("Messenger", "https://graph.test", lambda: "token", SendLimits(2000))
    error = api.classify(status, body)
    assert type(error) is (ProviderTransientError if transient else ProviderPermanentError)
    assert error.code == code
    assert "Messenger API answered" in str(error)


def test_every_documented_permanent_code_and_subcode_is_permanent() -> None:
    for code in PERMANENT_META_CODES:
        error = classify_error(400, graph_error(code), SEND_API_CODES, product="x")
        assert isinstance(error, ProviderPermanentError)
    for subcode in SEND_API_CODES.permanent_subcodes:
        error = classify_error(400, graph_error(10, subcode), SEND_API_CODES, product="x")
        assert isinstance(error, ProviderPermanentError)
    assert not PERMANENT_META_CODES & SEND_API_CODES.transient


def test_the_message_never_carries_the_body() -> None:
    message = str(classify_error(400, graph_error(10, 2018278), SEND_API_CODES, product="x"))
    assert "Maria" not in message and "6543210987654321" not in message
    assert "BLBz" not in message
