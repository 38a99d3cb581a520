"""Ed25519 signature over timestamp + raw body: fail closed, refuse replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atende.channels.discord import sample
from atende.channels.discord.verify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    load_public_key,
    verify_request,
)
from atende.errors import ConfigurationError, SignatureError

PRIVATE, PUBLIC = sample.generate_key_pair()
OTHER_PRIVATE, OTHER_PUBLIC = sample.generate_key_pair()
BODY = b'{"id":"1300012345678901248","application_id":"290926444748734465","type":1}'
SIGNED_AT = 1_730_000_000
NOW = datetime.fromtimestamp(SIGNED_AT, tz=UTC) + timedelta(seconds=2)


def signature(body: bytes = BODY, timestamp: int = SIGNED_AT, key: str = PRIVATE) -> str:
    return sample.signature_for(body, str(timestamp), key)


def verify(
    body: bytes = BODY,
    sig: str | None = None,
    timestamp: str | None = str(SIGNED_AT),
    public: str | None = PUBLIC,
    now: datetime = NOW,
) -> None:
    verify_request(body, signature(body) if sig is None else sig, timestamp, public, now)


def flip_last_hex(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def test_header_names_are_discords_lowercased() -> None:
    assert (SIGNATURE_HEADER, TIMESTAMP_HEADER) == ("x-signature-ed25519", "x-signature-timestamp")


def test_a_correct_signature_is_accepted() -> None:
    verify()


def test_uppercase_hex_and_an_uppercase_public_key_are_accepted() -> None:
    verify(sig=signature().upper(), public=PUBLIC.upper())


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param("", id="empty"),
        pytest.param("z" * 128, id="non-hex"),
        pytest.param(signature()[:-2], id="too-short"),
        pytest.param(signature() + "00", id="too-long"),
        pytest.param(signature()[:-1] + "é", id="non-ascii"),
        pytest.param(flip_last_hex(signature()), id="same-length-wrong"),
        pytest.param(signature(key=OTHER_PRIVATE), id="other-key"),
        pytest.param(signature(BODY + b" "), id="other-body"),
        pytest.param(signature(timestamp=SIGNED_AT + 1), id="other-timestamp"),
        pytest.param("0" * 128, id="zeros"),
    ],
)
def test_a_bad_signature_is_refused(sig: str) -> None:
    with pytest.raises(SignatureError):
        verify(sig=sig)


def test_a_signature_for_another_body_is_refused_even_with_the_same_timestamp() -> None:
    with pytest.raises(SignatureError):
        verify(body=BODY.replace(b'"type":1', b'"type":2'), sig=signature(BODY))


@pytest.mark.parametrize("timestamp", [None, "", "abc", "17300000.5", "-1", "9" * 13, "١٢٣"])
def test_a_missing_or_garbled_timestamp_is_refused(timestamp: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(timestamp=timestamp)


def test_a_missing_signature_header_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify_request(BODY, None, str(SIGNED_AT), PUBLIC, NOW)


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(NOW + timedelta(minutes=6), id="replayed-6-minutes-later"),
        pytest.param(NOW - timedelta(minutes=6), id="signed-6-minutes-in-the-future"),
        pytest.param(NOW + timedelta(days=30), id="replayed-a-month-later"),
    ],
)
def test_a_validly_signed_but_stale_request_is_refused_as_a_replay(now: datetime) -> None:
    with pytest.raises(SignatureError, match="tolerance"):
        verify(now=now)


def test_a_request_within_the_five_minute_tolerance_is_accepted() -> None:
    verify(now=datetime.fromtimestamp(SIGNED_AT, tz=UTC) + timedelta(minutes=4, seconds=59))


@pytest.mark.parametrize("public", [None, ""])
def test_a_missing_public_key_fails_closed(public: str | None) -> None:
    with pytest.raises(ConfigurationError):
        verify(public=public)


@pytest.mark.parametrize("public", ["abc", "zz" * 32, PUBLIC + "00"])
def test_a_garbled_public_key_is_a_configuration_error_not_a_bad_request(public: str) -> None:
    with pytest.raises(ConfigurationError):
        load_public_key(public)


def test_the_configured_key_is_checked_before_the_headers() -> None:
    # A missing key must read as misconfiguration (500), even for an unsigned probe.
    with pytest.raises(ConfigurationError):
        verify_request(BODY, None, None, None, NOW)


def test_errors_never_echo_the_signature() -> None:
    bad = flip_last_hex(signature())
    with pytest.raises(SignatureError) as caught:
        verify(sig=bad)
    assert bad not in str(caught.value) and bad.lower() not in str(caught.value)
