"""Masks personal data and secrets in log text, and a logging filter that applies it.

Defence in depth: code should not log these in the first place, but a log line is copied to
places (exports, support tickets) that personal data must never reach.

What is kept on purpose: lowercase hex ids of exactly 40 or 64 characters (our sha256-derived
session, outbox and dedupe ids) and uuid4 hex (correlation ids). They are derived or random,
not secrets. The price: a secret that happens to have that exact shape is not masked (a
random 32-hex secret looks like a uuid4 one time in 64); secrets must not be logged anyway.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

REDACTED: Final = "[redacted]"

#: json_fields keys whose values are message text, personal data or credentials: the value
#: is replaced whole, whatever it looks like.
DROPPED_KEYS: Final = frozenset(
    {
        "text", "body", "message_text", "caption", "name", "profile_name", "contact_id",
        "phone", "email", "wa_id", "recipient", "from", "to",
        # Also personal: WhatsApp contacts, location and document messages carry these.
        "phone_number", "display_phone_number", "formatted_name", "first_name", "last_name",
        "address", "latitude", "longitude", "filename", "cpf", "cnpj",
        # Credentials.
        "authorization", "access_token", "token", "secret", "password", "reply_context",
    }
)  # fmt: skip

_Sub = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

_OWN_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")


def _hex_secret(match: re.Match[str]) -> str:
    return match.group() if _OWN_ID.fullmatch(match.group()) else "[token]"


def _credential(match: re.Match[str]) -> str:
    # "Bearer"/"Basic" also occur in prose ("basic auth"): mask only what looks encoded.
    value = match.group(2)
    encoded = any(not c.isalpha() for c in value) or (
        any(c.isupper() for c in value) and any(c.islower() for c in value)
    )
    return f"{match.group(1)} [token]" if encoded else match.group()


def _opaque_secret(match: re.Match[str]) -> str:
    # Random base64 of 32+ characters practically always mixes upper, lower and digits;
    # identifiers, paths and words rarely do, so those stay readable.
    text = match.group()
    mixed = (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )
    return "[token]" if mixed else text


def _valid_cpf(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    for size in (9, 10):
        total = sum(int(d) * w for d, w in zip(digits[:size], range(size + 1, 1, -1), strict=True))
        if (total * 10 % 11) % 10 != int(digits[size]):
            return False
    return True


def _valid_cnpj(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    weights = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for size in (12, 13):
        total = sum(int(d) * w for d, w in zip(digits[:size], weights[13 - size :], strict=True))
        check = 0 if total % 11 < 2 else 11 - total % 11
        if check != int(digits[size]):
            return False
    return True


def _digits(match: re.Match[str]) -> str:
    # A bare run of 11 or 14 digits may be a CPF or CNPJ rather than a phone number; the
    # check digits tell. Masked either way, the marker only says what it most likely was.
    text = match.group()
    if text.isdigit():
        if len(text) == 11 and _valid_cpf(text):
            return "[cpf]"
        if len(text) == 14 and _valid_cnpj(text):
            return "[cnpj]"
    return "[phone]"


# Applied in order: credentials first (they may contain digits or an @), then e-mail and
# formatted documents, phone numbers last.
_SUBSTITUTIONS: Final[tuple[_Sub, ...]] = (
    (re.compile(r"\b(sha1|sha256)=[0-9A-Fa-f]{8,}"), r"\1=[signature]"),
    (re.compile(r"\b(Bearer|Basic)\s+([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE), _credential),
    (
        re.compile(
            r"\b(access_token|hub\.verify_token|verify_token|api_key|apikey|client_secret"
            r"|password|secret|token)=[^\s&\"',;]+",
            re.IGNORECASE,
        ),
        r"\1=[token]",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"\bEAA[A-Za-z0-9]{20,}"), "[token]"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])"), _hex_secret),
    (
        re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])"),
        _opaque_secret,
    ),
    # The lookbehind anchors a match at the start of a run, which keeps this linear.
    (re.compile(r"(?<![\w.+%-])[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[email]"),
    (re.compile(r"(?<![\w./])\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}(?!\w)"), "[cnpj]"),
    (re.compile(r"(?<![\w.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\w)"), "[cpf]"),
    # 10 to 15 digits with optional spaces, dashes and parentheses. Not after a word, dot or
    # dash (uuid groups, decimals), and not before a colon or ".5"/"-5": keeps clock times
    # ("2024-05-01 12:00") and decimals readable.
    (re.compile(r"(?<![\w.+-])\+?\(?\d(?:[ ()-]{0,3}\d){9,14}(?![\w:]|[.-]\d)"), _digits),
)


def redact(text: str) -> str:
    """Mask phone numbers, e-mails, CPF/CNPJ, tokens, signatures and long secrets."""
    for pattern, replacement in _SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    return text


_MAX_DEPTH: Final = 12


def scrub(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of `value`: personal keys replaced, strings redacted."""
    if depth > _MAX_DEPTH:
        return REDACTED
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int):
        if abs(value) < 10**9:  # too short for a phone or document number
            return value
        masked = redact(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if str(key).lower() in DROPPED_KEYS else scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(item, depth + 1) for item in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        # A pydantic model: scrub its fields, so a `text` field is dropped like a key.
        return scrub(dump(mode="json"), depth + 1)
    return redact(str(value))


_EXCEPTION_FORMATTER: Final = logging.Formatter()


class RedactionFilter(logging.Filter):
    """Redacts a record's message, json_fields, exception and stack text, in place.

    Attach to a handler (handler filters also see records propagated from child loggers)
    after anything that adds fields, so those are redacted too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, Mapping):
            record.msg = scrub(record.msg)
        else:
            record.msg = redact(self._message(record))
        record.args = ()
        fields = getattr(record, "json_fields", None)
        if isinstance(fields, Mapping):
            record.json_fields = scrub(fields)
        if record.exc_info:
            # Rendered here so the handler's formatter uses this text instead of its own.
            record.exc_text = redact(_EXCEPTION_FORMATTER.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # a log call must never raise, even with wrong arguments
            return f"{record.msg} [arguments did not format]"
        if message.startswith("{"):
            # The handler turns a JSON object message into fields; drop keys there as well.
            try:
                parsed = json.loads(message)
            except ValueError:
                return message
            if isinstance(parsed, dict):
                return json.dumps(scrub(parsed), ensure_ascii=False)
        return message
