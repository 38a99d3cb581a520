"""JSON from a provider, decoded into text that UTF-8 (and so a task body, a hash and a
Firestore document) can carry.

JSON allows a lone UTF-16 surrogate escape (`"\\ud83d"` with no partner), and Python's
decoder turns it, or a surrogate encoded directly as bytes, into a code point that has no
UTF-8 form: every later `encode()` of that text raises. A correctly signed delivery holding
one must still be kept, so each such code point becomes U+FFFD, the Unicode replacement
character, and nothing else changes meaning. The replacement is a pure function of the
text, so a redelivery yields the same events, ids and task names.

Nothing here runs for the usual body: the webhook edge repairs a body
(`without_lone_surrogates`) only when its parser failed to encode what it decoded, and
webhook/task_bodies.py repairs an event only when it cannot be serialized. A parser that
decodes JSON nested inside a string of the body uses `loads`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from atende.errors import MalformedPayloadError

_REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """`text` with every lone surrogate code point replaced by U+FFFD."""
    return _SURROGATE.sub(_REPLACEMENT, text) if _SURROGATE.search(text) else text


def without_lone_surrogates(body: bytes) -> bytes:
    """The same JSON with every lone surrogate it decodes to replaced by U+FFFD (re-encoded
    as compact UTF-8), or the body unchanged when it holds none or is not JSON (XML, empty:
    for its parser to judge). Raise MalformedPayloadError if it is JSON nested too deeply to
    be encoded again."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if not _repair(document):
        return body
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except RecursionError:
        raise MalformedPayloadError("body is nested too deeply") from None


def loads(text: str | bytes) -> Any:
    """`json.loads`, with every lone surrogate of the result replaced by U+FFFD; raises what
    json.loads raises."""
    document = json.loads(text)
    if isinstance(document, str):
        return replace_surrogates(document)
    _repair(document)
    return document


def _repair(document: Any) -> bool:
    """Replace lone surrogates in every string and key of `document`, in place, without
    recursion (a decoded body may be hundreds of levels deep); whether any was. A bare
    string is not repaired (no parser accepts one as a body)."""
    changed = False
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            items = list(value.items())
            if any(isinstance(key, str) and _SURROGATE.search(key) for key, _ in items):
                value.clear()
                value.update((replace_surrogates(key), item) for key, item in items)
                changed = True
            for key, item in value.items():
                if isinstance(item, str):
                    if _SURROGATE.search(item):
                        value[key] = replace_surrogates(item)
                        changed = True
                elif isinstance(item, dict | list):
                    stack.append(item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    if _SURROGATE.search(item):
                        value[index] = replace_surrogates(item)
                        changed = True
                elif isinstance(item, dict | list):
                    stack.append(item)
    return changed
