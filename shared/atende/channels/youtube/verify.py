"""WebSub authenticity checks for YouTube: pure, constant-time, fail-closed.

Two checks. The hub's GET "verification of intent" is answered only for a subscription we
want (W3C WebSub §5.3); a POST notification must carry `X-Hub-Signature: <method>=<hex>`, the
HMAC of the raw body keyed with our `hub.secret` (WebSub §8). Google's hub signs with sha1;
the other names WebSub registers are accepted as well, since the hub chooses. Error messages
never echo headers, topics or challenges.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping

from atende.channels.youtube.topics import channel_of_topic
from atende.errors import ConfigurationError, SignatureError

SIGNATURE_HEADER = "x-hub-signature"

#: WebSub's recognized algorithm names and their hex digest lengths.
_DIGEST_HEX_LENGTHS = {"sha1": 40, "sha256": 64, "sha384": 96, "sha512": 128}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

MODE_SUBSCRIBE = "subscribe"
MODE_UNSUBSCRIBE = "unsubscribe"
MODE_DENIED = "denied"

_MAX_CHALLENGE_LENGTH = 512
# The challenge is echoed in the response body: WebSub asks subscribers to bound it and refuse
# binary data. Printable ASCII without markup characters cannot be turned into a reflected
# script, whatever media type a client sniffs.
_CHALLENGE_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=:!$()*,;@?[]{}|^%#"
)


def verify_signature(body: bytes, signature_header: str | None, hub_secret: str | None) -> None:
    """Raise unless `signature_header` is "<method>=<hex HMAC of body with the hub secret>"."""
    if not hub_secret:
        raise ConfigurationError("YouTube hub secret is not configured")
    if not signature_header:
        raise SignatureError("missing X-Hub-Signature header")
    method, separator, given_hex = signature_header.partition("=")
    hex_length = _DIGEST_HEX_LENGTHS.get(method)
    if not separator or hex_length is None:
        raise SignatureError("X-Hub-Signature does not name a WebSub algorithm")
    # Checked before comparing: compare_digest refuses non-ASCII str, and a wrong length or
    # alphabet is a malformed header, not a timing oracle.
    if len(given_hex) != hex_length or not _HEX_DIGITS.issuperset(given_hex):
        raise SignatureError("X-Hub-Signature is not a hex digest of its algorithm")
    expected = hmac.new(hub_secret.encode("utf-8"), body, method).hexdigest()
    if not hmac.compare_digest(expected, given_hex.lower()):
        raise SignatureError("signature does not match the body")


def verify_intent(params: Mapping[str, str], subscribed: Collection[str]) -> str:
    """Answer the hub's subscribe/unsubscribe check: the challenge to echo, or SignatureError.

    We want a subscription to every configured channel and to nothing else, so a subscribe
    is confirmed only for a configured channel's feed and an unsubscribe only for a feed we
    no longer configure: a third party asking the hub to unsubscribe us from a channel we
    follow is refused.
    """
    mode = params.get("hub.mode")
    if mode not in (MODE_SUBSCRIBE, MODE_UNSUBSCRIBE):
        raise SignatureError("hub.mode is not subscribe or unsubscribe")
    channel = channel_of_topic(params.get("hub.topic"))
    if channel is None:
        raise SignatureError("hub.topic is not a YouTube channel feed")
    wanted = channel in subscribed
    if mode == MODE_SUBSCRIBE and not wanted:
        raise SignatureError("subscription to a channel we do not follow")
    if mode == MODE_UNSUBSCRIBE and wanted:
        raise SignatureError("unsubscription from a channel we still follow")
    challenge = params.get("hub.challenge")
    if (
        not isinstance(challenge, str)
        or not challenge
        or len(challenge) > _MAX_CHALLENGE_LENGTH
        or not _CHALLENGE_CHARS.issuperset(challenge)
    ):
        raise SignatureError("hub.challenge is missing or not a plain token")
    return challenge
