"""Meta webhook authenticity for Messenger and Instagram: the same `hub.*` handshake and
`X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret) as WhatsApp.

The constant-time checks are WhatsApp's own (`channels/whatsapp/verify.py`), reused rather
than copied so a fix there protects every Meta channel. Only the missing-secret check is done
here first, so a misconfigured Messenger webhook does not report a WhatsApp secret as missing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from atende.channels.whatsapp import verify as _graph
from atende.errors import ConfigurationError

SIGNATURE_HEADER = _graph.SIGNATURE_HEADER


def verify_signature(
    body: bytes, signature_header: str | None, app_secret: str | None, *, product: str
) -> None:
    """Raise SignatureError unless the header signs `body`; ConfigurationError without secret."""
    if not app_secret:
        raise ConfigurationError(f"{product} app secret is not configured")
    _graph.verify_signature(body, signature_header, app_secret)


def verify_handshake(params: Mapping[str, str], verify_token: str | None, *, product: str) -> str:
    """Return `hub.challenge` when `hub.mode` is subscribe and the token is ours."""
    if not verify_token:
        raise ConfigurationError(f"{product} verify token is not configured")
    return _graph.verify_handshake(params, verify_token)


def signature_for(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body` (for samples and tests)."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
