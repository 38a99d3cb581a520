"""Discord API failures map to retry (transient) or record-and-stop (permanent), PII-free."""

from __future__ import annotations

import json

import pytest

from atende.channels.discord.errors import classify_error
from atende.errors import ProviderPermanentError, ProviderTransientError


def discord_error(code: int, message: str = "Unknown Webhook") -> bytes:
    return json.dumps({"message": message, "code": code}).encode()


RATE_LIMITED = json.dumps(
    {"message": "You are being rate limited.", "retry_after": 64.57, "global": False}
).encode()

CASES = [
    # status, body, transient?, code
    (429, RATE_LIMITED, True, "discord_rate_limited"),
    (429, b"", True, "discord_rate_limited"),
    (500, b"", True, "http_500"),
    (502, b"<html>Bad Gateway</html>", True, "http_502"),
    (503, discord_error(130000, "API resource is currently overloaded."), True, "discord_130000"),
    (408, b"", True, "http_408"),
    (404, discord_error(10015), False, "interaction_expired"),
    (401, discord_error(50027, "Invalid Webhook Token"), False, "interaction_expired"),
    (401, b'{"message": "401: Unauthorized", "code": 0}', False, "discord_0"),
    (403, discord_error(50013, "Missing Permissions"), False, "discord_50013"),
    (404, b"", False, "http_404"),
    (400, discord_error(50035, "Invalid Form Body"), False, "discord_50035"),
    (400, b"not json", False, "http_400"),
    (400, b"[1]", False, "http_400"),
    (400, b'{"code": true}', False, "http_400"),
]


@pytest.mark.parametrize(("status", "body", "transient", "code"), CASES)
def test_classification(status: int, body: bytes, transient: bool, code: str) -> None:
    error = classify_error(status, body)
    assert type(error) is (ProviderTransientError if transient else ProviderPermanentError)
    assert error.code == code


def test_a_rate_limit_says_how_long_to_wait() -> None:
    assert "64.57" in str(classify_error(429, RATE_LIMITED))


def test_errors_never_echo_the_body() -> None:
    body = discord_error(50035, "Invalid Form Body: content 'meu CPF é 123.456.789-09'")
    assert "CPF" not in str(classify_error(400, body))
