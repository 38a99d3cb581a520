"""How big Firestore counts a document, computed the documented way.

Firestore refuses a document over 1 MiB (1,048,576 bytes; "Maximum size for a document",
https://cloud.google.com/firestore/quotas), and a write that would cross it fails with
INVALID_ARGUMENT, for good. Sizes follow "Storage size calculations"
(https://cloud.google.com/firestore/docs/storage-size):

- a string (collection id, document id, field name, string value) is its UTF-8 bytes + 1;
- a document name is the sizes of its collection and document ids + 16;
- a field is the size of its name + the size of its value: boolean and null 1, integer,
  floating-point and timestamp 8, bytes their length, an array the sum of its values, a map
  the sum of its fields;
- a document is its name + the sum of its fields + 32.

A map is counted like a document (its fields + 32): a little more than the page says, so
the figure is an upper bound, never an underestimate. The emulator enforces the same limit
("maximum entity size is 1048576 bytes").
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

#: Firestore's hard limit for one document.
MAX_DOCUMENT_BYTES = 1_048_576

_NAME_EXTRA = 16
_DOCUMENT_EXTRA = 32


def string_size(text: str) -> int:
    return len(text.encode("utf-8")) + 1


def value_size(value: Any) -> int:
    """The stored size of one field value (as the Python client writes it)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, Enum):
        return value_size(value.value)
    if isinstance(value, int | float | datetime | date):
        return 8
    if isinstance(value, str):
        return string_size(value)
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(value_size(item) for item in value)
    if isinstance(value, dict):
        return fields_size(value) + _DOCUMENT_EXTRA
    raise TypeError(f"no Firestore size for a {type(value).__name__}")


def fields_size(fields: dict[str, Any]) -> int:
    return sum(string_size(str(name)) + value_size(item) for name, item in fields.items())


def document_size(collection: str, document_id: str, fields: dict[str, Any]) -> int:
    """The size Firestore counts against its 1 MiB limit (an upper bound)."""
    name = string_size(collection) + string_size(document_id) + _NAME_EXTRA
    return name + fields_size(fields) + _DOCUMENT_EXTRA
