"""Discord request authenticity: Ed25519 over `X-Signature-Timestamp` + raw body, checked
against the application's public key, and a timestamp no older (or newer) than a tolerance so
a captured request cannot be replayed later. Pure and fail-closed.

Discord probes the endpoint with bad signatures on purpose and removes the URL of an app that
accepts them, so every doubt here is a SignatureError (401). Error messages never echo headers
or the body.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from atende.errors import ConfigurationError, SignatureError

SIGNATURE_HEADER = "x-signature-ed25519"
TIMESTAMP_HEADER = "x-signature-timestamp"
#: How far the signed timestamp may be from our clock, either way.
DEFAULT_TOLERANCE = timedelta(minutes=5)

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_PUBLIC_KEY_HEX_LENGTH = 64
_SIGNATURE_HEX_LENGTH = 128
# Unix seconds; 12 digits reach year 33658, more is garbage.
_MAX_TIMESTAMP_DIGITS = 12


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and _HEX_DIGITS.issuperset(value)


@lru_cache(maxsize=8)
def _public_key(public_key_hex: str) -> Ed25519PublicKey:
    # Cached: the key is read on every request and never changes within an instance.
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))


def load_public_key(public_key_hex: str | None) -> Ed25519PublicKey:
    """The application's public key; ConfigurationError when missing or not 32 hex bytes."""
    if not public_key_hex:
        raise ConfigurationError("Discord public key is not configured")
    candidate = public_key_hex.strip()
    if not _is_hex(candidate, _PUBLIC_KEY_HEX_LENGTH):
        raise ConfigurationError("Discord public key is not 32 bytes of hex")
    try:
        return _public_key(candidate.lower())
    except ValueError:
        raise ConfigurationError("Discord public key is not a valid Ed25519 key") from None


def signed_at(timestamp_header: str | None) -> datetime | None:
    """The signed timestamp (Unix seconds) as an aware UTC datetime, else None."""
    if not timestamp_header:
        return None
    value = timestamp_header.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def verify_request(
    body: bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    public_key_hex: str | None,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raise unless the headers sign `timestamp + body` with the key, at a fresh timestamp."""
    key = load_public_key(public_key_hex)
    if not signature_header:
        raise SignatureError("missing X-Signature-Ed25519 header")
    if not timestamp_header:
        raise SignatureError("missing X-Signature-Timestamp header")
    signature_hex = signature_header.strip()
    if not _is_hex(signature_hex, _SIGNATURE_HEX_LENGTH):
        raise SignatureError("signature header is not a 64-byte hex Ed25519 signature")
    when = signed_at(timestamp_header)
    if when is None:
        raise SignatureError("signature timestamp is not Unix seconds")
    try:
        # Exactly the bytes Discord signed: the timestamp header as sent, then the raw body.
        key.verify(bytes.fromhex(signature_hex), timestamp_header.encode("ascii") + body)
    except (InvalidSignature, UnicodeEncodeError):
        raise SignatureError("signature does not match the body") from None
    if abs(now - when) > tolerance:
        # A valid signature on an old request: a replay, or a clock far off.
        raise SignatureError("signature timestamp is outside the tolerance")
