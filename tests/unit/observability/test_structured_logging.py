from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud.logging_v2.handlers import StructuredLogHandler

from atende.errors import ConfigurationError
from atende.observability import bind, configure_logging, get_logger, new_correlation_id
from atende.observability.logging import NOISY_LOGGERS, DeferredStructuredHandler

SESSION_ID = hashlib.sha256(b"session").hexdigest()[:40]
DEDUPE_KEY = hashlib.sha256(b"dedupe").hexdigest()
PHONE = "5511999990000"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAKZCZBZAZD1234567890abcdefXYZ"


@pytest.fixture
def pristine_root() -> Iterator[logging.Logger]:
    """A root logger without handlers; it and the libraries' levels are restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    for handler in saved_handlers:
        root.removeHandler(handler)
    try:
        yield root
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def stream(pristine_root: logging.Logger) -> io.StringIO:
    """Logging configured to write to a buffer."""
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer, project="atende-test")
    return buffer


def structured_handlers() -> list[logging.Handler]:
    # pytest adds its own capturing handlers to the root logger during each test.
    return [h for h in logging.getLogger().handlers if isinstance(h, DeferredStructuredHandler)]


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_line_is_cloud_logging_json_with_context_fields(stream: io.StringIO) -> None:
    correlation_id = new_correlation_id()
    with bind(
        correlation_id=correlation_id,
        channel="whatsapp",
        tenant_id="acme",
        session_id=SESSION_ID,
        outcome=None,
        trace="0123456789abcdef0123456789abcdef",
    ):
        get_logger("atende.pipeline").info(
            "processed %s", "event", extra={"json_fields": {"outcome": "done"}}
        )

    (line,) = lines(stream)
    assert line["severity"] == "INFO"
    assert line["message"] == "processed event"
    assert line["correlation_id"] == correlation_id
    assert line["channel"] == "whatsapp"
    assert line["tenant_id"] == "acme"
    assert line["session_id"] == SESSION_ID
    assert line["outcome"] == "done"
    assert line["logging.googleapis.com/labels"] == {
        "python_logger": "atende.pipeline",
        "channel": "whatsapp",
        "tenant_id": "acme",
    }
    assert line["logging.googleapis.com/trace"] == (
        "projects/atende-test/traces/0123456789abcdef0123456789abcdef"
    )
    assert "trace" not in line


def test_personal_data_and_secrets_never_reach_the_output(stream: io.StringIO) -> None:
    correlation_id = new_correlation_id()
    with bind(correlation_id=correlation_id, session_id=SESSION_ID):
        get_logger("atende.x").warning(
            "send to %s failed; contact mail maria@example.com cpf 123.456.789-09 "
            "cnpj 11.222.333/0001-81 token=%s Authorization: Bearer %s",
            PHONE,
            ACCESS_TOKEN,
            ACCESS_TOKEN,
            extra={
                "json_fields": {
                    "text": "Oi, meu nome é Maria",
                    "profile_name": "Maria",
                    "wa_id": PHONE,
                    "dedupe_key": DEDUPE_KEY,
                    "detail": {
                        "caption": "foto",
                        "note": f"from +55 (11) 99999-0000 {ACCESS_TOKEN}",
                    },
                }
            },
        )

    output = stream.getvalue()
    for secret in (PHONE, "99999-0000", "maria@example.com", "123.456.789-09",
                   "11.222.333/0001-81", ACCESS_TOKEN, "Maria", "Oi, meu", "foto"):  # fmt: skip
        assert secret not in output
    (line,) = lines(stream)
    assert line["severity"] == "WARNING"
    assert line["message"] == (
        "send to [phone] failed; contact mail [email] cpf [cpf] cnpj [cnpj] "
        "token=[token] Authorization: Bearer [token]"
    )
    assert line["text"] == line["profile_name"] == line["wa_id"] == "[redacted]"
    assert line["detail"] == {"caption": "[redacted]", "note": "from [phone] [token]"}
    assert line["correlation_id"] == correlation_id
    assert line["session_id"] == SESSION_ID
    assert line["dedupe_key"] == DEDUPE_KEY


def test_exception_text_is_redacted(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"no session for {PHONE}")
    except ValueError:
        get_logger("atende.x").exception("failed for %s", PHONE)

    (line,) = lines(stream)
    assert line["severity"] == "ERROR"
    assert PHONE not in stream.getvalue()
    assert line["message"].startswith("failed for [phone]\nTraceback (most recent call last):")
    assert line["message"].endswith("ValueError: no session for [phone]")


@pytest.mark.parametrize(
    ("method", "severity"),
    [
        ("debug", None),
        ("info", "INFO"),
        ("warning", "WARNING"),
        ("error", "ERROR"),
        ("critical", "CRITICAL"),
    ],
)
def test_severity_mapping_and_level(stream: io.StringIO, method: str, severity: str | None) -> None:
    getattr(get_logger("atende.x"), method)("hello")
    assert [line["severity"] for line in lines(stream)] == ([severity] if severity else [])


def test_configure_twice_keeps_one_handler_and_updates_the_level(stream: io.StringIO) -> None:
    other = io.StringIO()
    configure_logging("debug", stream=other)
    configure_logging("DEBUG")
    root = logging.getLogger()
    assert len(structured_handlers()) == 1
    assert root.level == logging.DEBUG
    get_logger("atende.x").debug("once")
    assert [line["message"] for line in lines(stream)] == ["once"]
    assert other.getvalue() == ""


def test_first_configure_replaces_existing_root_handlers(pristine_root: logging.Logger) -> None:
    stray = logging.StreamHandler(io.StringIO())
    pristine_root.addHandler(stray)
    configure_logging(stream=io.StringIO())
    assert stray not in pristine_root.handlers
    assert len(structured_handlers()) == 1


def test_noisy_libraries_are_lowered(stream: io.StringIO) -> None:
    for name in ("urllib3", "google", "grpc"):
        assert logging.getLogger(name).level == logging.WARNING
    get_logger("urllib3.connectionpool").info("Starting new HTTPS connection")
    get_logger("google.auth").warning("careful")
    assert [line["message"] for line in lines(stream)] == ["careful"]


def test_unknown_level_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        configure_logging("LOUD")


def test_the_cloud_logging_handler_is_built_with_the_first_line_only(
    pristine_root: logging.Logger,
) -> None:
    buffer = io.StringIO()
    configure_logging("INFO", stream=buffer)
    (deferred,) = structured_handlers()
    assert deferred._built is None  # nothing logged yet: google.cloud.logging not needed
    get_logger("atende.x").debug("below the level")
    assert deferred._built is None and buffer.getvalue() == ""
    get_logger("atende.x").info("first")
    assert isinstance(deferred.target, StructuredLogHandler)
    assert [line["message"] for line in lines(buffer)] == ["first"]
