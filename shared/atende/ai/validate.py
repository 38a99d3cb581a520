"""Decides whether a model's reply may be sent, or why not (a short, PII-free reason code).

Pure. A rejected reply is not an error: the engine falls back to its deterministic answer
and records the reason. The checks guard what a contact would notice: a message that is
empty or cut by the channel, a jump the flow does not allow, a promise the company forbids,
a marker such as `[phone]` the model copied from its redacted input, or personal data the
model made up (or recalled from elsewhere) and would send to this contact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from atende.ai.contract import AiReply, AiRequest
from atende.tenants.tenant_config import TenantConfig

#: The markers `redact()` writes; in a reply they mean the model parroted its input.
_MARKER: Final = re.compile(r"\[(?:phone|email|cpf|cnpj|token|redacted|signature)\]", re.I)

_EMAIL: Final = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

#: What may be a phone or document number in a reply: formatted CPF and CNPJ, runs of 10 to
#: 15 digits (with the separators people write; not clock times or decimals, as in
#: `redact()`), and local numbers written 1234-5678 or 91234-5678. Dates stay allowed.
_NUMBERS: Final = (
    re.compile(r"(?<![\w.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\w)"),
    re.compile(r"(?<![\w./])\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}(?!\w)"),
    re.compile(r"(?<![\w.+-])\+?\(?\d(?:[ ()-]{0,3}\d){9,14}(?![\w:]|[.-]\d)"),
    re.compile(r"(?<![\w.-])\d{4,5}-\d{4}(?![\w-])"),
)

#: Any number as written in a trusted text, separators included, for comparison by digits.
_ANY_NUMBER: Final = re.compile(r"\d(?:[\s().+/-]{0,3}\d)*")

#: Shorter digit runs cannot be a number the reply shows (the shortest is 8 digits).
_MIN_DIGITS: Final = 8


def validate_reply(
    reply: AiReply, request: AiRequest, contact_texts: Sequence[str], tenant: TenantConfig
) -> str | None:
    """None when `reply` is usable; else the first failed check's reason code.

    `contact_texts` are the contact's own messages, unredacted: personal data they sent may
    be repeated back to them (and so may the tenant's own published numbers and addresses).
    """
    text = reply.reply
    if not text.strip():
        return "empty_reply"
    if len(text) > request.text_limit:
        return "too_long"
    if reply.next_state != request.state and reply.next_state not in request.allowed_next_states:
        return "forbidden_transition"
    if reply.confidence < tenant.ai.min_confidence:
        return "low_confidence"
    if any(re.search(pattern, text, re.IGNORECASE) for pattern in tenant.prohibited_patterns):
        return "prohibited_promise"
    if _MARKER.search(text):
        return "redaction_marker"
    if _unknown_personal_data(text, [*contact_texts, *_tenant_texts(tenant)]):
        return "pii_echo"
    return None


def _tenant_texts(tenant: TenantConfig) -> list[str]:
    """Texts the tenant wrote, which may publish its own phone number or e-mail."""
    texts = [str(value) for value in tenant.messages.model_dump().values()]
    texts.extend(entry.answer for entry in tenant.faq)
    texts.extend(field.prompt for field in tenant.required_fields)
    texts.append(tenant.ai.prompt)
    return texts


def _unknown_personal_data(text: str, trusted: Iterable[str]) -> bool:
    emails = {match.lower() for match in _EMAIL.findall(text)}
    numbers = {_digits(match.group()) for pattern in _NUMBERS for match in pattern.finditer(text)}
    if not emails and not numbers:
        return False
    trusted = list(trusted)
    known_emails = {match.lower() for source in trusted for match in _EMAIL.findall(source)}
    known_numbers = {
        digits
        for source in trusted
        for match in _ANY_NUMBER.finditer(source)
        if len(digits := _digits(match.group())) >= _MIN_DIGITS
    }
    return bool(emails - known_emails) or any(
        not _known_number(number, known_numbers) for number in numbers
    )


def _known_number(digits: str, known: set[str]) -> bool:
    """The same number, maybe written with or without its country or area code."""
    return any(digits in number or digits.endswith(number) for number in known)


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())
