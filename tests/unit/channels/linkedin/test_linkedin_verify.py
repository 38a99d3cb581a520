"""LinkedIn's GET challenge and X-LI-Signature: constant-time, fail-closed, both readings of
LinkedIn's prefix sentence accepted and nothing else."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from atende.channels.linkedin import verify
from atende.channels.linkedin.verify import (
    SIGNATURE_HEADER,
    answer_challenge,
    challenge_response,
    verify_signature,
)
from atende.errors import ConfigurationError, SignatureError

SECRET = "client-secret-for-tests"
BODY = b'{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}'
CHALLENGE = "890e4665-4dfe-4ab1-b689-ed553bceeed0"  # LinkedIn's documented example


def hexmac(message: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def linkedin_signature(body: bytes, secret: str = SECRET) -> str:
    """What LinkedIn sends: hex HMAC of "hmacsha256=" + body, no prefix in the header."""
    return hexmac(b"hmacsha256=" + body, secret)


def flip_last_hex(signature: str) -> str:
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


def test_the_header_is_read_by_its_lowercase_name() -> None:
    assert SIGNATURE_HEADER == "x-li-signature"


def test_challenge_is_answered_with_the_code_and_its_hmac() -> None:
    answer = answer_challenge({"challengeCode": CHALLENGE}, SECRET)
    assert answer == {"challengeCode": CHALLENGE, "challengeResponse": hexmac(CHALLENGE.encode())}
    assert challenge_response(CHALLENGE, SECRET) == answer["challengeResponse"]
    assert len(answer["challengeResponse"]) == 64


def test_an_upper_case_uuid_is_still_answered_with_the_hmac_of_the_code_as_sent() -> None:
    code = CHALLENGE.upper()
    assert answer_challenge({"challengeCode": code}, SECRET) == {
        "challengeCode": code,
        "challengeResponse": hexmac(code.encode()),
    }


def test_a_parent_child_application_id_does_not_change_the_answer() -> None:
    params = {"challengeCode": CHALLENGE, "applicationId": "123456"}
    assert answer_challenge(params, SECRET)["challengeResponse"] == hexmac(CHALLENGE.encode())


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="missing"),
        pytest.param({"challengeCode": ""}, id="empty"),
        pytest.param({"challengeCode": "<script>alert(1)</script>"}, id="markup"),
        pytest.param({"challengeCode": "a" * 129}, id="too-long"),
        pytest.param({"challenge": CHALLENGE}, id="other-name"),
        # Hex digits and hyphens, but not the documented "type-4 UUID string":
        pytest.param({"challengeCode": "abc"}, id="short-hex"),
        pytest.param({"challengeCode": "123"}, id="digits"),
        pytest.param({"challengeCode": "-"}, id="hyphen"),
        pytest.param({"challengeCode": CHALLENGE.replace("-", "")}, id="unhyphenated"),
        pytest.param({"challengeCode": CHALLENGE + "0"}, id="one-digit-more"),
        pytest.param({"challengeCode": CHALLENGE + "\n"}, id="trailing-newline"),
        pytest.param({"challengeCode": "{" + CHALLENGE + "}"}, id="braced"),
    ],
)
def test_a_missing_or_odd_challenge_is_refused(params: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        answer_challenge(params, SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_the_challenge_fails_closed_without_the_secret(secret: str | None) -> None:
    with pytest.raises(ConfigurationError):
        answer_challenge({"challengeCode": CHALLENGE}, secret)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(linkedin_signature(BODY), id="hmac-of-prefixed-body"),
        pytest.param("hmacsha256=" + linkedin_signature(BODY), id="prefixed-hmac-of-prefixed-body"),
        pytest.param("hmacsha256=" + hexmac(BODY), id="prefixed-hmac-of-body"),
        pytest.param(hexmac(BODY), id="hmac-of-body"),
        pytest.param("HMACSHA256=" + hexmac(BODY).upper(), id="uppercase"),
        pytest.param(" " + linkedin_signature(BODY) + " ", id="surrounding-space"),
    ],
)
def test_the_documented_signature_variants_are_accepted(header: str) -> None:
    verify_signature(BODY, header, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("sha256=" + linkedin_signature(BODY), id="other-prefix"),
        pytest.param("z" * 64, id="non-hex"),
        pytest.param(linkedin_signature(BODY)[:-2], id="too-short"),
        pytest.param(linkedin_signature(BODY) + "00", id="too-long"),
        pytest.param(linkedin_signature(BODY)[:-1] + "é", id="non-ascii"),
        pytest.param(flip_last_hex(linkedin_signature(BODY)), id="same-length-wrong-digest"),
        pytest.param(linkedin_signature(BODY, "another-secret"), id="other-secret"),
        pytest.param(linkedin_signature(BODY + b" "), id="other-body"),
        pytest.param(hexmac(b"hmacsha256" + BODY), id="prefix-without-equals"),
    ],
)
def test_a_bad_signature_is_rejected(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_client_secret_fails_closed(secret: str | None) -> None:
    with pytest.raises(ConfigurationError):
        verify_signature(BODY, linkedin_signature(BODY), secret)


def test_the_error_does_not_echo_the_header() -> None:
    header = flip_last_hex(linkedin_signature(BODY))
    with pytest.raises(SignatureError) as caught:
        verify_signature(BODY, header, SECRET)
    assert header not in str(caught.value)


def test_digests_are_compared_with_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real: Callable[..., bool] = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verify.hmac, "compare_digest", spy)
    verify_signature(BODY, linkedin_signature(BODY), SECRET)
    # Both variants are compared every time, whichever matches.
    assert len(calls) == 2
