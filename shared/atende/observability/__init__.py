"""Structured logging, log context (correlation) and redaction of personal data."""

from atende.observability.context import bind, current, new_correlation_id
from atende.observability.logging import configure_logging, get_logger
from atende.observability.redaction import RedactionFilter, redact

__all__ = [
    "RedactionFilter",
    "bind",
    "configure_logging",
    "current",
    "get_logger",
    "new_correlation_id",
    "redact",
]
