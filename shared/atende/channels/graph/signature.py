"""Graph API webhook authenticity, one implementation for every Meta product: the `hub.*`
subscription handshake and `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app
secret). Pure, constant-time and fail-closed: a missing secret is a ConfigurationError named
after the product, anything else that does not prove the body a SignatureError.

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


def verify_signature(
    body: bytes, headers: Mapping[str, str], app_secret: str | None, *, product: str
) -> None:
    """Raise unless the `x-hub-signature-256` header is "sha256=" + the hex HMAC-SHA256 of
    `body` with the app secret; `product` names the secret when it is missing."""
    if not app_secret:
        raise ConfigurationError(f"{product} app secret is not configured")
    header = headers.get(SIGNATURE_HEADER)
    if not header:
        raise SignatureError("missing X-Hub-Signature-256 header")
    if not header.startswith(_PREFIX):
        raise SignatureError("signature header does not start with sha256=")
    given_hex = header[len(_PREFIX) :]
    # Checked before comparing: compare_digest refuses non-ASCII str, and a wrong length or
    # alphabet is a malformed header, not a timing oracle.
    if len(given_hex) != _DIGEST_HEX_LENGTH or not _HEX_DIGITS.issuperset(given_hex):
        raise SignatureError("signature header is not a sha256 hex digest")
    if not hmac.compare_digest(signature_for(body, app_secret), _PREFIX + given_hex.lower()):
        raise SignatureError("signature does not match the body")


def verify_handshake(query: Mapping[str, str], verify_token: str | None, *, product: str) -> str:
    """Answer Meta's GET subscription check: `hub.challenge` when `hub.mode` is subscribe and
    `hub.verify_token` is ours; `product` names the token when it is missing."""
    if not verify_token:
        raise ConfigurationError(f"{product} verify token is not configured")
    if query.get("hub.mode") != "subscribe":
        raise SignatureError("hub.mode is not subscribe")
    given = query.get("hub.verify_token")
    if not isinstance(given, str) or not hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), verify_token.encode("utf-8", "surrogatepass")
    ):
        raise SignatureError("hub.verify_token does not match")
    challenge = query.get("hub.challenge")
    if (
        not isinstance(challenge, str)
        or not challenge
        or len(challenge) > _MAX_CHALLENGE_LENGTH
        or not _CHALLENGE_CHARS.issuperset(challenge)
    ):
        raise SignatureError("hub.challenge is missing or not a plain token")
    return challenge


def signature_for(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body` (also what samples and tests sign
    with)."""
    return _PREFIX + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
