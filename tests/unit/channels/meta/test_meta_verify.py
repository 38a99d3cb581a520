"""Meta's signature and handshake for Messenger and Instagram: fail closed, name the product."""

from __future__ import annotations

import pytest

from atende.channels.meta.verify import (
    SIGNATURE_HEADER,
    signature_for,
    verify_handshake,
    verify_signature,
)
from atende.errors import ConfigurationError, SignatureError

SECRET = "messenger-app-secret"
BODY = b'{"object":"page","entry":[]}'


def test_the_header_is_meta_x_hub_signature_256() -> None:
    assert SIGNATURE_HEADER == "x-hub-signature-256"


def test_a_body_signed_with_the_app_secret_is_accepted() -> None:
    verify_signature(BODY, signature_for(BODY, SECRET), SECRET, product="Messenger")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(signature_for(BODY, "other-secret"), id="other-secret"),
        pytest.param(signature_for(BODY + b" ", SECRET), id="other-body"),
        pytest.param(signature_for(BODY, SECRET).replace("sha256=", "sha1="), id="sha1"),
        pytest.param("sha256=" + "0" * 64, id="forged"),
    ],
)
def test_a_bad_or_missing_signature_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, SECRET, product="Messenger")


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_app_secret_fails_closed_and_names_the_product(secret: str | None) -> None:
    with pytest.raises(ConfigurationError, match="Instagram app secret"):
        verify_signature(BODY, signature_for(BODY, SECRET), secret, product="Instagram")


def query(token: str = "verify-me", challenge: str = "1158201444") -> dict[str, str]:
    return {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge}


def test_the_handshake_echoes_the_challenge_for_our_token() -> None:
    assert verify_handshake(query(), "verify-me", product="Messenger") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(query(token="nope"), id="wrong-token"),
        pytest.param({**query(), "hub.mode": "unsubscribe"}, id="wrong-mode"),
        pytest.param(query(challenge="<b>x</b>"), id="markup-challenge"),
    ],
)
def test_a_bad_handshake_is_refused(params: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify_handshake(params, "verify-me", product="Messenger")


def test_a_handshake_without_a_configured_token_fails_closed() -> None:
    with pytest.raises(ConfigurationError, match="Messenger verify token"):
        verify_handshake(query(token=""), None, product="Messenger")
