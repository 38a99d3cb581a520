"""The Graph API webhook signature and subscription handshake, shared by WhatsApp, Messenger
and Instagram: fail closed, constant-time, name the product whose secret is missing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from atende.channels.graph.signature import (
    SIGNATURE_HEADER,
    signature_for,
    verify_handshake,
    verify_signature,
)
from atende.errors import ConfigurationError, SignatureError

SECRET = "app-secret-for-tests"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def sign(body: bytes, secret: str = SECRET) -> str:
    """Meta's documented signature, computed here independently of `signature_for`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(header: str | None) -> dict[str, str]:
    return {} if header is None else {SIGNATURE_HEADER: header}


def flip_last_hex(signature: str) -> str:
    last = signature[-1]
    return signature[:-1] + ("0" if last != "0" else "1")


def test_header_name_is_the_lowercase_meta_header() -> None:
    assert SIGNATURE_HEADER == "x-hub-signature-256"


def test_signature_for_is_metas_signature() -> None:
    assert signature_for(BODY, SECRET) == sign(BODY)


def test_correct_signature_is_accepted() -> None:
    verify_signature(BODY, signed(sign(BODY)), SECRET, product="WhatsApp")


def test_uppercase_hex_is_accepted() -> None:
    header = "sha256=" + sign(BODY).removeprefix("sha256=").upper()
    verify_signature(BODY, signed(header), SECRET, product="WhatsApp")


def test_other_headers_do_not_count() -> None:
    headers = {"x-hub-signature": sign(BODY), "X-Hub-Signature-256-x": sign(BODY)}
    with pytest.raises(SignatureError):
        verify_signature(BODY, headers, SECRET, product="Messenger")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(sign(BODY).removeprefix("sha256="), id="no-prefix"),
        pytest.param("sha1=" + sign(BODY).removeprefix("sha256="), id="sha1-prefix"),
        pytest.param("SHA256=" + sign(BODY).removeprefix("sha256="), id="uppercase-prefix"),
        pytest.param("sha256=" + "z" * 64, id="non-hex"),
        pytest.param(sign(BODY)[:-2], id="too-short"),
        pytest.param(sign(BODY) + "00", id="too-long"),
        pytest.param(sign(BODY)[:-1] + "é", id="non-ascii"),
        pytest.param(flip_last_hex(sign(BODY)), id="same-length-wrong-digest"),
        pytest.param("sha256=" + "0" * 64, id="forged"),
        pytest.param(sign(BODY, "another-secret"), id="other-secret"),
        pytest.param(sign(BODY + b" "), id="other-body"),
    ],
)
def test_bad_signature_is_rejected(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(BODY, signed(header), SECRET, product="WhatsApp")


@pytest.mark.parametrize("secret", [None, ""])
@pytest.mark.parametrize("product", ["WhatsApp", "Messenger", "Instagram"])
def test_missing_app_secret_fails_closed_and_names_the_product(
    secret: str | None, product: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"{product} app secret"):
        verify_signature(BODY, signed(sign(BODY)), secret, product=product)


def test_signature_error_does_not_echo_the_header() -> None:
    header = flip_last_hex(sign(BODY))
    with pytest.raises(SignatureError) as caught:
        verify_signature(BODY, signed(header), SECRET, product="WhatsApp")
    assert header.removeprefix("sha256=") not in str(caught.value)


def test_digests_are_compared_with_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real: Callable[..., bool] = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with pytest.raises(SignatureError):
        verify_signature(BODY, signed(flip_last_hex(sign(BODY))), SECRET, product="WhatsApp")
    verify_signature(BODY, signed(sign(BODY)), SECRET, product="WhatsApp")
    assert len(calls) == 2


def params(
    mode: str | None = "subscribe",
    token: str | None = "verify-me",
    challenge: str | None = "1158201444",
) -> dict[str, str]:
    pairs = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
    return {key: value for key, value in pairs.items() if value is not None}


def test_handshake_returns_the_challenge() -> None:
    assert verify_handshake(params(), "verify-me", product="WhatsApp") == "1158201444"


def test_handshake_accepts_a_challenge_of_256_characters() -> None:
    assert verify_handshake(params(challenge="7" * 256), "verify-me", product="x") == "7" * 256


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(params(token="verify-mE"), id="wrong-token"),
        pytest.param(params(token="verify-me-too"), id="longer-token"),
        pytest.param(params(token="vérify-me"), id="non-ascii-token"),
        pytest.param(params(token=None), id="missing-token"),
        pytest.param(params(mode="unsubscribe"), id="wrong-mode"),
        pytest.param(params(mode=None), id="missing-mode"),
        pytest.param(params(challenge=None), id="missing-challenge"),
        pytest.param(params(challenge=""), id="empty-challenge"),
        pytest.param(params(challenge="7" * 257), id="challenge-too-long"),
        pytest.param(params(challenge="<script>alert(1)</script>"), id="challenge-markup"),
    ],
)
def test_bad_handshake_is_rejected(query: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify_handshake(query, "verify-me", product="Messenger")


@pytest.mark.parametrize("token", [None, ""])
@pytest.mark.parametrize("product", ["WhatsApp", "Messenger", "Instagram"])
def test_handshake_without_configured_token_fails_closed_and_names_the_product(
    token: str | None, product: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"{product} verify token"):
        verify_handshake(params(token=""), token, product=product)
