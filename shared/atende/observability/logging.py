"""Structured JSON logging for Cloud Logging: one handler on the root logger, set up once.

Each line is a JSON object in the Cloud Logging structured format ("severity", "message",
"logging.googleapis.com/labels", "logging.googleapis.com/trace", ...) plus the fields bound
with `observability.context.bind`, redacted by `RedactionFilter`.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any, Final

from atende.errors import ConfigurationError
from atende.observability.context import current
from atende.observability.redaction import RedactionFilter

#: Context fields that also become Cloud Logging labels (indexed, cheap to filter on).
LABEL_FIELDS: Final = ("channel", "tenant_id")
#: Libraries that log every request or retry at INFO; their warnings still come through.
NOISY_LOGGERS: Final = ("urllib3", "google", "grpc")

# Marks the handler we installed, so a second call finds it instead of adding another.
_MARK: Final = "_atende_structured"
_lock = threading.Lock()


class ContextFilter(logging.Filter):
    """Copies the log context into the record: json_fields, labels and trace.

    Fields given with `extra={"json_fields": ...}` or `extra={"labels": ...}` win over the
    context, being more specific.
    """

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self._project = project

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current()
        # The trace is its own LogEntry field, not payload; a bare trace id needs the
        # project to become the resource name Cloud Logging links to Cloud Trace.
        trace = fields.pop("trace", None)
        if trace and not hasattr(record, "trace"):
            if self._project and not trace.startswith("projects/"):
                trace = f"projects/{self._project}/traces/{trace}"
            record.trace = trace
        given = getattr(record, "json_fields", None)
        if isinstance(given, Mapping):
            fields.update(given)
        if fields:
            record.json_fields = fields
        labels = {name: fields[name] for name in LABEL_FIELDS if isinstance(fields.get(name), str)}
        given_labels = getattr(record, "labels", None)
        if isinstance(given_labels, Mapping):
            labels.update(given_labels)
        if labels:
            record.labels = labels
        return True


def _level(level: str) -> int:
    value = logging.getLevelNamesMapping().get(level.strip().upper())
    if value is None:
        raise ConfigurationError(f"unknown log level {level!r}", code="bad_log_level")
    return value


def _build_handler(stream: IO[str], project: str | None) -> logging.Handler:
    # Imported here: google.cloud.logging takes about a second to import, and a cold start
    # pays for every import at module level.
    import google.cloud.logging_v2
    from google.cloud.logging_v2.handlers import StructuredLogHandler

    # The library writes a one-off "diagnostic" line per process (usage telemetry for
    # Google, not ours); every cold start would add it. Pretend it was written.
    google.cloud.logging_v2._instrumentation_emitted = True

    handler_class: Any = StructuredLogHandler  # the library has no type hints
    handler: logging.Handler = handler_class(stream=stream, project_id=project)
    # The handler's own CloudLoggingFilter reads record.labels and record.trace, so ours must
    # run before it: context first, then redaction, then the library's filter.
    library_filters = list(handler.filters)
    for existing in library_filters:
        handler.removeFilter(existing)
    handler.addFilter(ContextFilter(project))
    handler.addFilter(RedactionFilter())
    for existing in library_filters:
        handler.addFilter(existing)
    return handler


class DeferredStructuredHandler(logging.Handler):
    """Stands in for the Cloud Logging handler until a record reaches it, then builds it.

    google.cloud.logging takes a few hundred milliseconds to import; a webhook answering a
    valid delivery logs nothing at INFO, so its cold start no longer pays for it, and a
    function that logs pays once, on its first line, exactly as before.
    """

    def __init__(self, stream: IO[str], project: str | None) -> None:
        super().__init__()
        self._stream = stream
        self._project = project
        self._built: logging.Handler | None = None
        self._build_lock = threading.Lock()
        setattr(self, _MARK, True)

    @property
    def target(self) -> logging.Handler:
        """The structured handler, built on first use."""
        if self._built is None:
            with self._build_lock:
                if self._built is None:
                    self._built = _build_handler(self._stream, self._project)
        return self._built

    def handle(self, record: logging.LogRecord) -> bool:
        # The real handler's filters (context, redaction, the library's) run there.
        return bool(self.target.handle(record))

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() delegates
        self.target.emit(record)


def configure_logging(
    level: str = "INFO", *, stream: IO[str] | None = None, project: str | None = None
) -> None:
    """Install the structured handler on the root logger, once per process.

    Safe to call on every request: later calls only change the level. The first call
    replaces any handler already on the root logger, so each line is written once.
    `stream` defaults to stdout; `project` turns bare trace ids into resource names.
    """
    numeric = _level(level)
    root = logging.getLogger()
    with _lock:
        if not any(getattr(handler, _MARK, False) for handler in root.handlers):
            handler = DeferredStructuredHandler(
                stream if stream is not None else sys.stdout, project
            )
            for existing in list(root.handlers):
                root.removeHandler(existing)
            root.addHandler(handler)
            for name in NOISY_LOGGERS:
                noisy = logging.getLogger(name)
                noisy.setLevel(logging.WARNING)
                # google-api-core stops the "google" logger propagating when it finds it
                # unconfigured; its warnings must reach our handler (and its redaction).
                noisy.propagate = True
        if root.level != numeric:  # setLevel empties every logger's level cache
            root.setLevel(numeric)


def get_logger(name: str) -> logging.Logger:
    """The standard library logger of that name (a seam for a future wrapper)."""
    return logging.getLogger(name)
