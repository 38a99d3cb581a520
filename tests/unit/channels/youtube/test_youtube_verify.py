"""WebSub checks for YouTube: the hub's verification of intent, and X-Hub-Signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from atende.channels.youtube.verify import SIGNATURE_HEADER, verify_intent, verify_signature
from atende.errors import ConfigurationError, SignatureError

SECRET = "hub-secret-for-tests"
BODY = b"<feed xmlns='http://www.w3.org/2005/Atom'/>"
CHANNEL = "UCdv3AtendeDevChannel01A"
OTHER_CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
TOPIC = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}"
SUBSCRIBED = {CHANNEL}


def sign(body: bytes, secret: str = SECRET, method: str = "sha1") -> str:
    return f"{method}=" + hmac.new(secret.encode(), body, method).hexdigest()


def flip_last_hex(signature: str) -> str:
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


def intent(**overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "hub.mode": "subscribe",
        "hub.topic": TOPIC,
        "hub.challenge": "14793218805237513098",
        "hub.lease_seconds": "432000",
        **overrides,
    }
    return {key: value for key, value in params.items() if value is not None}


# -- X-Hub-Signature ------------------------------------------------------------------------


def test_header_name_is_the_lowercase_websub_header() -> None:
    assert SIGNATURE_HEADER == "x-hub-signature"


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_a_signature_with_any_websub_algorithm_is_accepted(method: str) -> None:
    verify_signature(BODY, sign(BODY, method=method), SECRET)


def test_uppercase_hex_is_accepted() -> None:
    method, _, digest = sign(BODY).partition("=")
    verify_signature(BODY, f"{method}={digest.upper()}", SECRET)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(sign(BODY).removeprefix("sha1="), id="no-method"),
        pytest.param("md5=" + hashlib.md5(BODY, usedforsecurity=False).hexdigest(), id="md5"),
        pytest.param("SHA1=" + sign(BODY).removeprefix("sha1="), id="uppercase-method"),
        pytest.param("sha1=" + "z" * 40, id="non-hex"),
        pytest.param(sign(BODY)[:-2], id="too-short"),
        pytest.param(sign(BODY) + "00", id="too-long"),
        pytest.param("sha256=" + sign(BODY).removeprefix("sha1="), id="sha1-digest-named-sha256"),
        pytest.param(sign(BODY)[:-1] + "é", id="non-ascii"),
        pytest.param(flip_last_hex(sign(BODY)), id="same-length-wrong-digest"),
        pytest.param(sign(BODY, "another-secret"), id="other-secret"),
        pytest.param(sign(BODY + b" "), id="other-body"),
    ],
)
def test_a_bad_or_missing_signature_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(BODY, header, SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_hub_secret_fails_closed_even_for_a_well_formed_header(
    secret: str | None,
) -> None:
    with pytest.raises(ConfigurationError):
        verify_signature(BODY, sign(BODY), secret)


def test_the_refusal_does_not_echo_the_header() -> None:
    header = flip_last_hex(sign(BODY))
    with pytest.raises(SignatureError) as caught:
        verify_signature(BODY, header, SECRET)
    assert header.removeprefix("sha1=") not in str(caught.value)


def test_digests_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real: Callable[..., bool] = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    verify_signature(BODY, sign(BODY), SECRET)
    assert len(calls) == 1


# -- verification of intent -----------------------------------------------------------------


def test_a_subscription_to_a_configured_channel_is_confirmed_with_the_challenge() -> None:
    assert verify_intent(intent(), SUBSCRIBED) == "14793218805237513098"


def test_the_older_spelling_of_the_feed_topic_is_recognised() -> None:
    older = f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"
    assert verify_intent(intent(**{"hub.topic": older}), SUBSCRIBED) == "14793218805237513098"


def test_an_unsubscription_from_a_channel_we_no_longer_configure_is_confirmed() -> None:
    other = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={OTHER_CHANNEL}"
    params = intent(**{"hub.mode": "unsubscribe", "hub.topic": other})
    assert verify_intent(params, SUBSCRIBED) == "14793218805237513098"


def test_an_unsubscription_from_a_channel_we_follow_is_refused() -> None:
    # Anyone can ask the hub to unsubscribe our callback; we still want those notifications.
    with pytest.raises(SignatureError):
        verify_intent(intent(**{"hub.mode": "unsubscribe"}), SUBSCRIBED)


@pytest.mark.parametrize(
    "topic",
    [
        pytest.param(
            f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={OTHER_CHANNEL}",
            id="unconfigured-channel",
        ),
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(f"https://evil.example/xml/feeds/videos.xml?channel_id={CHANNEL}", id="host"),
        pytest.param(
            f"https://www.youtube.com.evil.example/feeds/videos.xml?channel_id={CHANNEL}",
            id="lookalike-host",
        ),
        pytest.param(f"https://www.youtube.com/other.xml?channel_id={CHANNEL}", id="path"),
        pytest.param(
            f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}&x=1", id="extra"
        ),
        pytest.param(
            f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}"
            f"&channel_id={OTHER_CHANNEL}",
            id="two-channels",
        ),
        pytest.param(f"ftp://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}", id="ftp"),
        pytest.param(
            f"https://www.youtube.com:8443/xml/feeds/videos.xml?channel_id={CHANNEL}", id="port"
        ),
        pytest.param(
            f"https://www.youtube.com:bad/xml/feeds/videos.xml?channel_id={CHANNEL}", id="bad-port"
        ),
    ],
)
def test_a_subscription_to_any_other_topic_is_refused(topic: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_intent(intent(**{"hub.topic": topic}), SUBSCRIBED)


@pytest.mark.parametrize("mode", [None, "", "publish", "Subscribe", "denied"])
def test_any_other_mode_is_refused(mode: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_intent(intent(**{"hub.mode": mode}), SUBSCRIBED)


@pytest.mark.parametrize(
    "challenge",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("abc def", id="whitespace"),
        pytest.param("a\x00b", id="binary"),
        pytest.param("x" * 513, id="too-long"),
    ],
)
def test_a_missing_or_unsafe_challenge_is_refused(challenge: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_intent(intent(**{"hub.challenge": challenge}), SUBSCRIBED)


def test_a_long_token_challenge_is_echoed() -> None:
    challenge = "Zm9vYmFy-_.~" * 40
    assert verify_intent(intent(**{"hub.challenge": challenge}), SUBSCRIBED) == challenge
