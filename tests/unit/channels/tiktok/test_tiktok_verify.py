"""TikTok-Signature: t=<seconds>,s=<hex HMAC of "t.body">; constant-time, fail-closed, and a
correctly signed but stale or future timestamp is a replay."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from atende.channels.tiktok import verify
from atende.channels.tiktok.verify import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    parse_header,
    verify_signature,
)
from atende.errors import ConfigurationError, SignatureError

SECRET = "client-secret-for-tests"
BODY = b'{"client_key":"bwo2m45353a6k85","event":"authorization.removed"}'
T = 1633174587  # TikTok's documented example timestamp
NOW = datetime.fromtimestamp(T + 3, tz=UTC)


def hexmac(message: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(body: bytes = BODY, t: int = T, secret: str = SECRET) -> str:
    return f"t={t},s={hexmac(f'{t}.'.encode() + body, secret)}"


def check(value: str | None, now: datetime = NOW, secret: str | None = SECRET) -> None:
    verify_signature(BODY, value, secret, now)


def test_the_header_is_read_by_its_lowercase_name() -> None:
    assert SIGNATURE_HEADER == "tiktok-signature"


def test_the_documented_header_format_parses() -> None:
    documented = "t=1633174587,s=18494715036ac4416a1d0a673871a2edbcfc94d94bd88ccd2c5ec9b3425afe66"
    assert parse_header(documented) == (
        "1633174587",
        ["18494715036ac4416a1d0a673871a2edbcfc94d94bd88ccd2c5ec9b3425afe66"],
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(header(), id="as-documented"),
        pytest.param(header().upper().replace("T=", "t=").replace("S=", "s="), id="uppercase-hex"),
        pytest.param(header().replace(",", ", "), id="space-after-comma"),
        pytest.param("s=" + header().split(",s=")[1] + f",t={T}", id="reordered"),
        pytest.param(header() + ",s=" + "0" * 64, id="extra-signature"),
        pytest.param(header() + ",v=1", id="unknown-element-ignored"),
    ],
)
def test_a_correct_signature_is_accepted(value: str) -> None:
    check(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(header().split(",")[1], id="no-timestamp"),
        pytest.param(header().split(",")[0], id="no-signature"),
        pytest.param(header() + f",t={T}", id="two-timestamps"),
        pytest.param(header().replace(f"t={T}", "t=16331745a7"), id="timestamp-not-digits"),
        pytest.param(header().replace(f"t={T}", "t=-1633174587"), id="negative-timestamp"),
        pytest.param(header().replace(f"t={T}", "t=1" + "0" * 12), id="huge-timestamp"),
        pytest.param(f"t={T},s=" + "z" * 64, id="non-hex"),
        pytest.param(header()[:-2], id="too-short"),
        pytest.param(header() + "00", id="too-long"),
        pytest.param(header()[:-1] + "é", id="non-ascii"),
        pytest.param(header(secret="another-secret"), id="other-secret"),
        pytest.param(header(body=BODY + b" "), id="other-body"),
        pytest.param(f"t={T},s={hexmac(BODY)}", id="body-without-timestamp"),
        pytest.param(f"t={T},s={hexmac(f'{T}'.encode() + BODY)}", id="timestamp-without-dot"),
        pytest.param(header(t=T - 1).replace(f"t={T - 1}", f"t={T}"), id="timestamp-swapped"),
        pytest.param(f"t={T};s={hexmac(f'{T}.'.encode() + BODY)}", id="wrong-separator"),
    ],
)
def test_a_bad_signature_is_rejected(value: str | None) -> None:
    with pytest.raises(SignatureError) as caught:
        check(value)
    assert caught.value.code == "bad_signature"


@pytest.mark.parametrize(
    "age", [DEFAULT_TOLERANCE_SECONDS + 1, 3600, 72 * 3600, -(DEFAULT_TOLERANCE_SECONDS + 1)]
)
def test_a_signed_but_stale_or_future_timestamp_is_a_replay(age: int) -> None:
    now = datetime.fromtimestamp(T + age, tz=UTC)
    with pytest.raises(SignatureError) as caught:
        check(header(), now=now)
    assert caught.value.code == "stale_signature"


@pytest.mark.parametrize("age", [0, DEFAULT_TOLERANCE_SECONDS, -DEFAULT_TOLERANCE_SECONDS])
def test_a_timestamp_inside_the_window_is_accepted(age: int) -> None:
    check(header(), now=datetime.fromtimestamp(T + age, tz=UTC))


def test_the_window_is_configurable() -> None:
    now = datetime.fromtimestamp(T + 60, tz=UTC)
    verify_signature(BODY, header(), SECRET, now, tolerance_seconds=60)
    with pytest.raises(SignatureError):
        verify_signature(BODY, header(), SECRET, now, tolerance_seconds=59)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_client_secret_fails_closed(secret: str | None) -> None:
    with pytest.raises(ConfigurationError):
        check(header(), secret=secret)


def test_the_error_does_not_echo_the_header() -> None:
    value = header(secret="another-secret")
    with pytest.raises(SignatureError) as caught:
        check(value)
    assert value.split("s=")[1] not in str(caught.value)


def test_digests_are_compared_with_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real: Callable[..., bool] = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verify.hmac, "compare_digest", spy)
    check(header())
    assert len(calls) == 1
