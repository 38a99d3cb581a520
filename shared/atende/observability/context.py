"""Log context: fields every log line of a unit of work carries, kept in a ContextVar.

A ContextVar (not a thread-local) so the context follows asyncio tasks and stays separate
between concurrent requests served by threads of one instance.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from types import MappingProxyType
from typing import Final

_EMPTY: Final[MappingProxyType[str, str | None]] = MappingProxyType({})
# Read-only mappings, replaced (never mutated) by `bind`, so a context copied into another
# thread or task can never be changed from outside it.
_fields: ContextVar[MappingProxyType[str, str | None]] = ContextVar(
    "atende_log_context", default=_EMPTY
)


@contextlib.contextmanager
def _bound(fields: dict[str, str | None]) -> Iterator[None]:
    token = _fields.set(MappingProxyType({**_fields.get(), **fields}))
    try:
        yield
    finally:
        _fields.reset(token)


def bind(**fields: str | None) -> contextlib.AbstractContextManager[None]:
    """Add fields to the log context for the duration of a `with` block.

    Nested binds merge and the inner value wins; a None hides an outer value (the field is
    unknown here) rather than being ignored. Everything is restored on exit.
    """
    return _bound(fields)


def current() -> dict[str, str]:
    """The fields bound now, without the ones that are None."""
    return {key: value for key, value in _fields.get().items() if value is not None}


def new_correlation_id() -> str:
    """A fresh correlation id (uuid4 hex, 32 characters)."""
    return uuid.uuid4().hex
