from __future__ import annotations

import hashlib
import logging
import sys
import time
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from atende.observability.context import new_correlation_id
from atende.observability.redaction import REDACTED, RedactionFilter, redact, scrub

SHA64 = hashlib.sha256(b"x").hexdigest()
SHA40 = SHA64[:40]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +55 11 99999-0000 now", "call [phone] now"),
        ("call (11) 99999-0000.", "call [phone]."),
        ("wa 5511999990000", "wa [phone]"),
        ("us +15551234567", "us [phone]"),
        ("us +1 (555) 123-4567", "us [phone]"),
        ("fixo 11 3333-4444", "fixo [phone]"),
        ("cpf 123.456.789-09", "cpf [cpf]"),
        ("cpf 12345678909", "cpf [cpf]"),
        ("cnpj 11.222.333/0001-81", "cnpj [cnpj]"),
        ("cnpj 11222333000181", "cnpj [cnpj]"),
        ("mail joao.silva+tag@example.com.br ok", "mail [email] ok"),
        ("Authorization: Bearer ya29.a0AfH6SMB-x_y", "Authorization: Bearer [token]"),
        ("header: Basic dXNlcjpwYXNz", "header: Basic [token]"),
        ("meta EAAGm0PX4ZCpsBAKZCZDabc1", "meta [token]"),
        ("meta EAAGm0PX4ZCpsBAKZCZBZAZD1234567890abc", "meta [token]"),
        ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "jwt [token]"),
        ("sig sha256=" + "ab" * 32, "sig sha256=[signature]"),
        ("app secret " + "0f" * 16, "app secret [token]"),
        ("key " + "Ab1" * 12, "key [token]"),
        (
            "get /?hub.verify_token=s3cr3t&hub.challenge=1",
            "get /?hub.verify_token=[token]&hub.challenge=1",
        ),
    ],
)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"session {SHA40} outbox {SHA40} dedupe {SHA64}",
        f"task in-{SHA64} out-{SHA40}-r1",
        f"correlation {new_correlation_id()}",
        "at 2024-05-01 12:00:00.123456 took 1716543210.123 s",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "projects/atende-dev/secrets/whatsapp-app-secret/versions/latest",
        "process_inbound_worker_for_whatsapp_channel_events",
        "retry 3 of 10, status 503, 1234 bytes",
        "basic auth is off; bearer tokens only",
    ],
)
def test_keeps_ordinary_text_and_our_ids(text: str) -> None:
    assert redact(text) == text


def test_uppercase_or_odd_length_hex_is_not_an_id() -> None:
    assert redact(SHA64.upper()) == "[token]"
    assert redact(SHA64[:48]) == "[token]"


def test_is_idempotent() -> None:
    text = "5511999990000 a@b.co 123.456.789-09 EAAGm0PX4ZCpsBAKZCZDabc1"
    assert redact(redact(text)) == redact(text)


def test_is_fast_on_long_lines() -> None:
    line = ("word " * 2000) + ("x" * 20000) + ("1" * 5000)
    started = time.perf_counter()
    redact(line)
    assert time.perf_counter() - started < 0.5


class _Event(BaseModel):
    event_id: str
    text: str


def test_scrub_drops_personal_keys_and_redacts_values() -> None:
    fields = {
        "Text": "olá, meu cpf é 123.456.789-09",
        "profile_name": "Maria",
        "from": "5511999990000",
        "to": "x",
        "items": [{"wa_id": "5511999990000", "note": "mail a@b.com"}],
        "count": 3,
        "big": 5511999990000,
        "flag": True,
        "when": datetime(2024, 5, 1, tzinfo=UTC),
        "event": _Event(event_id="e1", text="secret message"),
        "session_id": SHA40,
    }
    assert scrub(fields) == {
        "Text": REDACTED,
        "profile_name": REDACTED,
        "from": REDACTED,
        "to": REDACTED,
        "items": [{"wa_id": REDACTED, "note": "mail [email]"}],
        "count": 3,
        "big": "[phone]",
        "flag": True,
        "when": "2024-05-01 00:00:00+00:00",
        "event": {"event_id": "e1", "text": REDACTED},
        "session_id": SHA40,
    }


def _record(msg: object, *args: object, **attrs: object) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, None)
    for key, value in attrs.items():
        setattr(record, key, value)
    return record


def test_filter_formats_redacts_and_clears_args() -> None:
    record = _record("contact %s wrote to %s", "5511999990000", "a@b.com")
    assert RedactionFilter().filter(record) is True
    assert record.msg == "contact [phone] wrote to [email]"
    assert record.args == ()
    assert record.getMessage() == "contact [phone] wrote to [email]"


def test_filter_survives_arguments_that_do_not_format() -> None:
    record = _record("needs %d", "5511999990000")
    RedactionFilter().filter(record)
    assert "5511999990000" not in record.getMessage()


def test_filter_scrubs_dict_and_json_messages() -> None:
    record = _record({"text": "hi", "n": "5511999990000"})
    RedactionFilter().filter(record)
    assert record.msg == {"text": REDACTED, "n": "[phone]"}

    record = _record('{"body": "hi", "ok": 1}')
    RedactionFilter().filter(record)
    assert record.msg == '{"body": "[redacted]", "ok": 1}'


def test_filter_does_not_change_the_callers_json_fields() -> None:
    given = {"text": "hello"}
    record = _record("m", json_fields=given)
    RedactionFilter().filter(record)
    assert record.__dict__["json_fields"] == {"text": REDACTED}
    assert given == {"text": "hello"}


def test_filter_redacts_exception_and_stack_text() -> None:
    try:
        raise ValueError("no route for 5511999990000")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "m", None, sys.exc_info())
    record.stack_info = "Stack: mail a@b.com"
    RedactionFilter().filter(record)
    assert record.exc_text is not None
    assert "ValueError: no route for [phone]" in record.exc_text
    assert record.stack_info == "Stack: mail [email]"
    formatted = logging.Formatter().format(record)
    assert "5511999990000" not in formatted
    assert "a@b.com" not in formatted
