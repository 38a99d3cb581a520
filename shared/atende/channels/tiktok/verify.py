"""TikTok webhook authenticity: the TikTok-Signature header, pure, constant-time, fail-closed.

TikTok ("Check the signature", developers.tiktok.com/doc/webhooks-verification) sends
``TikTok-Signature: t=<unix seconds>,s=<hex>`` where s is HMAC-SHA256 keyed with the app's
client secret over ``<t> + "." + <raw body>``. The timestamp is signed, so it cannot be
changed; a correctly signed request whose timestamp is outside the tolerance window is a
replay and is refused too. Error messages never echo the header or the body.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from atende.errors import ConfigurationError, SignatureError

SIGNATURE_HEADER = "tiktok-signature"
#: TikTok documents no window; five minutes is the usual one for signed timestamps.
DEFAULT_TOLERANCE_SECONDS = 300

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_DIGEST_HEX_LENGTH = 64
# Unix seconds; 12 digits reach year 33658, more is garbage.
_MAX_TIMESTAMP_DIGITS = 12
_MAX_SIGNATURES = 8


def parse_header(value: str) -> tuple[str, list[str]]:
    """The timestamp (as sent) and the signatures of a `t=…,s=…` header; raise if malformed."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for element in value.split(","):
        prefix, separator, item = element.strip().partition("=")
        if not separator:
            raise SignatureError("TikTok-Signature is not a list of key=value pairs")
        if prefix == "t":
            timestamps.append(item)
        elif prefix == "s":
            signatures.append(item)
    if len(timestamps) != 1:
        raise SignatureError("TikTok-Signature needs exactly one timestamp")
    timestamp = timestamps[0]
    if not (
        timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS
    ):
        raise SignatureError("TikTok-Signature timestamp is not unix seconds")
    if not 1 <= len(signatures) <= _MAX_SIGNATURES:
        raise SignatureError("TikTok-Signature has no signature")
    for signature in signatures:
        # Checked before comparing: compare_digest refuses non-ASCII str, and a wrong length
        # or alphabet is a malformed header, not a timing oracle.
        if len(signature) != _DIGEST_HEX_LENGTH or not _HEX_DIGITS.issuperset(signature):
            raise SignatureError("TikTok-Signature signature is not a sha256 hex digest")
    return timestamp, [signature.lower() for signature in signatures]


def signature_for(body: bytes, client_secret: str, timestamp: str) -> str:
    """Hex HMAC-SHA256 of `timestamp + "." + body` keyed with the client secret."""
    signed_payload = timestamp.encode("ascii") + b"." + body
    return hmac.new(client_secret.encode("utf-8"), signed_payload, hashlib.sha256).hexdigest()


def verify_signature(
    body: bytes,
    signature_header: str | None,
    client_secret: str | None,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise unless the header signs `body` with the secret at a time within the window."""
    if not client_secret:
        raise ConfigurationError("TikTok client secret is not configured")
    if not signature_header:
        raise SignatureError("missing TikTok-Signature header")
    timestamp, given = parse_header(signature_header)
    expected = signature_for(body, client_secret, timestamp)
    # Every given signature is compared, so how many there are is all the timing shows.
    matches = [hmac.compare_digest(expected, signature) for signature in given]
    if not any(matches):
        raise SignatureError("TikTok-Signature does not match the body")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise SignatureError(
            "TikTok-Signature timestamp is outside the tolerance window", code="stale_signature"
        )
