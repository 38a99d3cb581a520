"""Webhook authenticity checks for the WhatsApp Cloud API: pure, constant-time, fail-closed.

Error messages never echo the header, token or body: they may carry secrets or personal data.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from atende.errors import ConfigurationError, SignatureError

SIGNATURE_HEADER = "x-hub-signature-256"

_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_DIGEST_HEX_LENGTH = 64
_MAX_CHALLENGE_LENGTH = 256
# The challenge is echoed back in the response body; Meta sends digits, so anything outside
# this small alphabet is refused rather than reflected.
_CHALLENGE_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.")


def verify_signature(body: bytes, signature_header: str | None, app_secret: str | None) -> None:
    """Raise unless `signature_header` is "sha256=" + hex HMAC-SHA256 of `body` with the secret."""
    if not app_secret:
        raise ConfigurationError("WhatsApp app secret is not configured")
    if not signature_header:
        raise SignatureError("missing X-Hub-Signature-256 header")
    if not signature_header.startswith(_PREFIX):
        raise SignatureError("signature header does not start with sha256=")
    given_hex = signature_header[len(_PREFIX) :]
    # Checked before comparing: compare_digest refuses non-ASCII str, and a wrong length or
    # alphabet is a malformed header, not a timing oracle.
    if len(given_hex) != _DIGEST_HEX_LENGTH or not _HEX_DIGITS.issuperset(given_hex):
        raise SignatureError("signature header is not a sha256 hex digest")
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(_PREFIX + expected, _PREFIX + given_hex.lower()):
        raise SignatureError("signature does not match the body")


def verify_handshake(params: Mapping[str, str], verify_token: str | None) -> str:
    """Answer Meta's GET subscription check: return `hub.challenge` when mode and token match."""
    if not verify_token:
        raise ConfigurationError("WhatsApp verify token is not configured")
    if params.get("hub.mode") != "subscribe":
        raise SignatureError("hub.mode is not subscribe")
    given = params.get("hub.verify_token")
    if not isinstance(given, str) or not hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), verify_token.encode("utf-8", "surrogatepass")
    ):
        raise SignatureError("hub.verify_token does not match")
    challenge = params.get("hub.challenge")
    if (
        not isinstance(challenge, str)
        or not challenge
        or len(challenge) > _MAX_CHALLENGE_LENGTH
        or not _CHALLENGE_CHARS.issuperset(challenge)
    ):
        raise SignatureError("hub.challenge is missing or not a plain token")
    return challenge
