"""The JSON body of an inbound task: always one that Cloud Tasks, the worker and Firestore
can take, whatever a correctly signed delivery held.

Every channel's events reach the queue through here (webhook/batcher.py), so this is
where what a provider may send but a task cannot carry is repaired, for every channel:

- **Lone UTF-16 surrogates.** JSON escapes such as `"\\ud83d"` decode to code points that
  have no UTF-8 form, so neither a task body nor a Firestore document can hold one. Every
  one in the event — its texts, ids, its raw payload and the payload's keys — becomes
  U+FFFD (atende/json_text.py), found at no cost: the serializer refuses the event.
- **Nesting deeper than the worker can read.** The worker parses a task body with a depth
  limit (pydantic-core: about 200 levels, task and batch included) and the serializer stops
  at about 255. A container of the raw payload deeper than `MAX_RAW_DEPTH` is kept as its
  JSON text instead.
- **An event too large for one task.** Cloud Tasks refuses a task over 1 MB — its URL,
  headers and body (https://cloud.google.com/tasks/docs/quotas, "Maximum task size"). A body
  is kept within `MAX_TASK_BODY_BYTES`, half of that, so the rest of the task fits and a dead
  letter of it (the body plus its record) still fits a 1 MiB Firestore document. An event
  whose body alone is larger is *kept and shrunk*, never refused: refusing it (413) would
  make the provider drop or endlessly retry the whole delivery, and lose every other event
  in it. In order, until it fits: the raw payload is replaced by a marker with its size, its
  sha256 (to find the provider's copy) and its first `RAW_HEAD_BYTES`; then every text
  longer than `TEXT_CAP` characters is cut with a marker (no provider sends a message that
  long: WhatsApp's limit is 4,096); last, an event that still does not fit (thousands of
  fields) becomes an `UnsupportedEvent` with the same ids (cut to `ID_CAP`) and the marker,
  which processing keeps and audits. Each step is deterministic, so a redelivery gets the
  same task.

The usual event costs one serialization and a bracket count (or a walk of its raw payload's
containers, for a large body): the repairs run only when the serializer refuses the event,
when its raw payload is too deep, or when it is too large.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from atende.domain.events import UnsupportedEvent
from atende.json_text import replace_surrogates
from atende.tasks.contracts import InboundTask

#: The largest task body we enqueue (see the module docstring).
MAX_TASK_BODY_BYTES = 512 * 1024
#: What a body may hold beyond its event's own bytes that differs between two deliveries of
#: the same event (its received_at and correlation_id): the part sizes are decided without.
ENVELOPE_ALLOWANCE = 1024
#: The largest event (its body less the varying part), so that it always fits a task alone.
MAX_EVENT_BYTES = MAX_TASK_BODY_BYTES - ENVELOPE_ALLOWANCE
#: Deepest container kept as such in a raw payload (providers' items are about 10 deep).
MAX_RAW_DEPTH = 64
#: How much of an oversized raw payload's JSON the marker keeps.
RAW_HEAD_BYTES = 16 * 1024
#: Longest text of an event that did not fit even without its raw payload.
TEXT_CAP = 8 * 1024
#: The reason of an event that did not fit even with its texts cut.
OVERSIZED = "oversized_event"
#: Ids are cut only when an event is replaced by an `UnsupportedEvent`.
ID_CAP = 1024
#: Up to this size, a body's brackets are counted before its raw payload is walked.
_COUNT_BELOW_BYTES = 16 * 1024

_CUT = "…[truncated]"


class EncodedTask(NamedTuple):
    #: The task as enqueued: the repaired one when the original could not be.
    task: InboundTask
    body: bytes


def encode(task: InboundTask) -> EncodedTask:
    """The task and its body, repaired and shrunk where it has to be (module docstring)."""
    try:
        body = task.model_dump_json().encode()
    except PydanticSerializationError:  # a lone surrogate, or nesting past the serializer
        task = _repaired(task)
        body = task.model_dump_json().encode()
    else:
        if _may_be_too_deep(body, task.event.raw):
            task = _repaired(task)
            body = task.model_dump_json().encode()
    if len(body) > MAX_EVENT_BYTES:
        varying = varying_size(task)
        if len(body) - varying > MAX_EVENT_BYTES:
            task, body = _shrunk(task, varying)
    return EncodedTask(task, body)


def varying_size(task: InboundTask) -> int:
    """Bytes of the task's body that another delivery of the same event may change (its
    received_at and correlation_id): what sizes are decided without, so that a redelivery
    is shrunk and split the same way."""
    return len(task.model_dump_json(include={"received_at", "correlation_id"}))


# -- repairs ----------------------------------------------------------------------------


def _repaired(task: InboundTask) -> InboundTask:
    repaired: InboundTask = _scrub_model(task, cap=None)
    return repaired


def _scrub_model(model: BaseModel, cap: int | None) -> Any:
    fields = {name: _scrub(getattr(model, name), 0, cap) for name in type(model).model_fields}
    return type(model).model_validate(fields)


def _scrub(value: Any, depth: int, cap: int | None) -> Any:
    """`value` with surrogates replaced, containers deeper than MAX_RAW_DEPTH kept as text,
    and (with `cap`) texts cut to `cap` characters."""
    if isinstance(value, str):
        if cap is not None and len(value) > cap:
            value = value[:cap] + _CUT
        return replace_surrogates(value)
    if isinstance(value, BaseModel):
        return _scrub_model(value, cap)
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_RAW_DEPTH:
            return _scrub(_as_text(value), depth, cap)
        if isinstance(value, dict):
            return {_scrub(k, depth, cap): _scrub(v, depth + 1, cap) for k, v in value.items()}
        return type(value)(_scrub(item, depth + 1, cap) for item in value)
    return value


def _as_text(value: Any) -> str:
    """A too-deep container as its JSON text (surrogates are replaced by the caller)."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):  # deeper than even json can walk
        return "[nested too deeply]"


def _may_be_too_deep(body: bytes, raw: Any) -> bool:
    """Whether the raw payload nests deeper than MAX_RAW_DEPTH. A small body with few
    brackets cannot (counting them costs less than walking it); a large one, mostly text,
    is walked: the walk costs by containers, not bytes."""
    if len(body) <= _COUNT_BELOW_BYTES and body.count(b"{") + body.count(b"[") <= MAX_RAW_DEPTH:
        return False
    return _too_deep(raw)


def _too_deep(raw: Any) -> bool:
    """Whether `raw` nests containers deeper than MAX_RAW_DEPTH (without recursion)."""
    stack = [(raw, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_RAW_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend(
            (child, depth + 1) for child in children if isinstance(child, dict | list | tuple)
        )
    return False


# -- oversized events -------------------------------------------------------------------


def _shrunk(task: InboundTask, varying: int) -> tuple[InboundTask, bytes]:
    event = task.event
    marker = _raw_marker(event.raw)
    for candidate in (
        lambda: event.model_copy(update={"raw": marker}),
        lambda: _scrub_model(event.model_copy(update={"raw": {}}), TEXT_CAP).model_copy(
            update={"raw": marker}
        ),
        lambda: _unsupported(event, marker),
    ):
        shrunk = task.model_copy(update={"event": candidate()})
        body = shrunk.model_dump_json().encode()
        if len(body) - varying <= MAX_EVENT_BYTES:
            return shrunk, body
    # Unreachable: the last candidate is a few KiB (ids cut, raw head bounded).
    raise AssertionError("an UnsupportedEvent with bounded fields did not fit a task")


def _raw_marker(raw: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
    encoded = text.encode("utf-8", "surrogatepass")
    return {
        "atende_truncated": True,
        "bytes": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
        "head": replace_surrogates(
            encoded[:RAW_HEAD_BYTES].decode("utf-8", "ignore")
        ),  # a cut character is dropped
    }


def _unsupported(event: Any, marker: dict[str, Any]) -> UnsupportedEvent:
    def cut(text: str | None) -> str | None:
        return None if text is None else _scrub(text, 0, ID_CAP)

    return UnsupportedEvent(
        channel=cut(event.channel) or "",
        event_id=cut(event.event_id) or "",
        account_id=cut(event.account_id) or "",
        contact_id=cut(event.contact_id),
        occurred_at=event.occurred_at,
        raw=marker,
        reason=OVERSIZED,
    )
