"""LinkedIn webhook authenticity: the GET challenge and the X-LI-Signature of every POST.

Both are HMAC-SHA256 with the application's client secret, hex-encoded, checked in constant
time and fail-closed. Error messages never echo the header, the challenge or the body.

LinkedIn's page ("Webhooks", shared/api-guide/webhook-validation) says the header is "the
HMACSHA256 hash of the JSON-encoded string representation of the POST body prefixed by
`hmacsha256=`". That sentence reads two ways, and integrators report the second one is what
LinkedIn sends:

* header ``hmacsha256=<hex>`` where hex = HMAC(secret, body);
* header ``<hex>`` where hex = HMAC(secret, ``"hmacsha256=" + body``).

We accept the header with or without the ``hmacsha256=`` prefix, and a digest of either
message. Both are keyed with the secret, so accepting both lets nobody without it through.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import TypeGuard

from atende.errors import ConfigurationError, SignatureError

SIGNATURE_HEADER = "x-li-signature"
CHALLENGE_PARAM = "challengeCode"
#: Sent only to parent/child applications (Apply Connect): which application's secret to use.
APPLICATION_PARAM = "applicationId"

_PREFIX = "hmacsha256="
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_DIGEST_HEX_LENGTH = 64
# LinkedIn's "Webhooks" page (shared/api-guide/webhook-validation) documents challengeCode as
# a "randomly generated type-4 UUID string" (example 890e4665-4dfe-4ab1-b689-ed553bceeed0).
# The code is echoed back, so only that shape is echoed: 8-4-4-4-12 hex digits. The version and
# variant digits are not checked: they add nothing to what we echo, and refusing a code
# LinkedIn generated differently would block the webhook after three failed validations.
_CHALLENGE_PATTERN = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def challenge_response(challenge_code: str, client_secret: str) -> str:
    """Hex HMAC-SHA256 of the challenge code keyed with the client secret."""
    return _hmac_hex(client_secret, challenge_code.encode("utf-8"))


def is_challenge_code(code: object) -> TypeGuard[str]:
    """Whether `code` has the documented shape of a challenge code (a UUID, hyphenated)."""
    # fullmatch, not `$`: a trailing newline must not pass.
    return isinstance(code, str) and _CHALLENGE_PATTERN.fullmatch(code) is not None


def answer_challenge(params: Mapping[str, str], client_secret: str | None) -> dict[str, str]:
    """The JSON LinkedIn expects for a GET `?challengeCode=`; raise if we must not answer."""
    if not client_secret:
        raise ConfigurationError("LinkedIn client secret is not configured")
    code = params.get(CHALLENGE_PARAM)
    if not is_challenge_code(code):
        raise SignatureError("challengeCode is missing or not a UUID")
    return {"challengeCode": code, "challengeResponse": challenge_response(code, client_secret)}


def verify_signature(body: bytes, signature_header: str | None, client_secret: str | None) -> None:
    """Raise unless the X-LI-Signature header is LinkedIn's HMAC of `body` (see module doc)."""
    if not client_secret:
        raise ConfigurationError("LinkedIn client secret is not configured")
    if not signature_header:
        raise SignatureError("missing X-LI-Signature header")
    given = signature_header.strip()
    if given[: len(_PREFIX)].lower() == _PREFIX:
        given = given[len(_PREFIX) :]
    # Checked before comparing: compare_digest refuses non-ASCII str, and a wrong length or
    # alphabet is a malformed header, not a timing oracle.
    if len(given) != _DIGEST_HEX_LENGTH or not _HEX_DIGITS.issuperset(given):
        raise SignatureError("X-LI-Signature is not a sha256 hex digest")
    given = given.lower()
    prefixed = _hmac_hex(client_secret, _PREFIX.encode("ascii") + body)
    plain = _hmac_hex(client_secret, body)
    # Both comparisons always run: which variant matched is not observable in the timing.
    matches = [hmac.compare_digest(prefixed, given), hmac.compare_digest(plain, given)]
    if not any(matches):
        raise SignatureError("X-LI-Signature does not match the body")
