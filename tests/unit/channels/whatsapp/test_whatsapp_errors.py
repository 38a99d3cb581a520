"""The WhatsApp Cloud API's codes: throttling and outages retried, refusals recorded."""

from __future__ import annotations

import json

import pytest

from atende.channels.whatsapp.client import WhatsAppCloudApi
from atende.channels.whatsapp.errors import CLOUD_API_CODES
from atende.errors import ProviderPermanentError, ProviderTransientError


def graph_error(code: int, subcode: int | None = None) -> bytes:
    error: dict[str, object] = {"message": "(#131047) Olá Maria", "code": code}
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
    (400, graph_error(100, 2494010), False, "meta_100_2494010"),
    (401, graph_error(190, 463), False, "meta_190_463"),
    (404, b"<html>Not Found</html>", False, "http_404"),
]


@pytest.mark.parametrize(("status", "body", "transient", "code"), CASES)
def test_the_send_api_classifies_with_the_cloud_api_codes(
    status: int, body: bytes, transient: bool, code: str
) -> None:
    error = WhatsAppCloudApi("https://graph.test", lambda: "token").classify(status, body)
    assert type(error) is (ProviderTransientError if transient else ProviderPermanentError)
    assert error.code == code
    assert "WhatsApp API answered" in str(error)


def test_transient_codes_are_the_documented_throttling_and_outage_codes() -> None:
    assert {4, 80007, 130429, 131000, 131016, 131056, 2, 1} == CLOUD_API_CODES.transient
    assert 131047 not in CLOUD_API_CODES.transient
    assert not CLOUD_API_CODES.permanent_subcodes
