"""Group commit for the webhook's tasks: deliveries that arrive while an enqueue is in flight
leave together, in one Cloud Tasks task, when it returns.

A lone delivery is enqueued at once, as one task per event named after the event (so the
queue itself refuses a provider's retry), with no timer and no added wait. Under load, each
CreateTask call carries every delivery that arrived during the previous one, which is what
keeps a webhook instance near a bare function's rate: the call, not the events, costs the
time. A batch task's id hashes its events' ids; a provider retry that lands in another batch
is caught by processing's dedupe, like any redelivery. Every delivery still waits for its
own events to be enqueued before it is acknowledged.

A lone delivery with more events than a batch holds (a YouTube feed of thousands of
entries) is split, in its own order, into as few batch tasks as hold it, each within the
limits: never one task per event (thousands of concurrent CreateTask calls, some of which
the queue cancels: a 2,000-entry feed got 503 every time), never one task over Cloud Tasks'
1 MB. The split is decided by the events' own sizes (less what `task_bodies.varying_size`
measures), not by what differs between deliveries, so a redelivery is split the same way
and its tasks get the same names, which the queue refuses. A part of one event is that
event's own task. The delivery is acknowledged once every part is enqueued; if any part
failed it is answered 5xx, and the provider's retry finds the parts that were created
refused as duplicates.

Each task's body is built once, by `task_bodies.encode`, which also repairs what a signed
delivery may hold but a task cannot (lone surrogates, too-deep nesting, an event over a
task's size).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

from atende.domain import keys
from atende.ports import AsyncTaskQueue, TaskRequest
from atende.tasks.contracts import PROCESS_INBOUND, InboundBatch, InboundTask
from atende.webhook.task_bodies import (
    ENVELOPE_ALLOWANCE,
    MAX_TASK_BODY_BYTES,
    EncodedTask,
    encode,
    varying_size,
)

#: Limits of one batch task; a delivery is split across batch tasks only when it has more
#: events than one holds (Cloud Tasks refuses a task over 1 MB; see task_bodies).
MAX_BATCH_EVENTS = 100
MAX_BATCH_BYTES = MAX_TASK_BODY_BYTES
BATCH_KIND: bytes = InboundBatch.model_fields["kind"].default.encode()
_BATCH_HEAD = b'{"kind":"%s","tasks":[' % BATCH_KIND
_BATCH_TAIL = b"]}"
#: A batch body's bytes besides its tasks' bodies (and one comma between two of them).
BATCH_OVERHEAD = len(_BATCH_HEAD) + len(_BATCH_TAIL)


@dataclass
class _Delivery:
    encoded: list[EncodedTask]
    correlation_id: str
    done: asyncio.Future[None]
    size: int = field(init=False)

    def __post_init__(self) -> None:
        # As part of a batch: its bodies and the commas between them.
        self.size = sum(len(item.body) + 1 for item in self.encoded)


class InboundBatcher:
    def __init__(
        self,
        queue: AsyncTaskQueue,
        *,
        max_events: int = MAX_BATCH_EVENTS,
        max_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self._queue = queue
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._waiting: list[_Delivery] = []
        self._flushing = False
        #: The running flush: the loop keeps only a weak reference to a task.
        self._flusher: asyncio.Task[None] | None = None

    async def enqueue(self, tasks: list[InboundTask], correlation_id: str) -> None:
        """Returns once every one of `tasks` is in the queue; raises what enqueueing raised
        (TransientError) when any of them could not be."""
        if not tasks:
            return
        delivery = _Delivery(
            [encode(task) for task in tasks],
            correlation_id,
            asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(delivery)
        if not self._flushing:
            self._flushing = True
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        await delivery.done

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch = self._take()
                try:
                    requests = self._requests(batch)
                    if len(requests) == 1:  # the usual case: no task per call
                        await self._queue.enqueue(requests[0])
                    else:
                        await asyncio.gather(*(self._queue.enqueue(r) for r in requests))
                except Exception as error:  # each waiting delivery answers for itself
                    for delivery in batch:
                        if not delivery.done.done():
                            delivery.done.set_exception(error)
                else:
                    for delivery in batch:
                        if not delivery.done.done():
                            delivery.done.set_result(None)
        finally:
            self._flushing = False

    def _fits(self, events: int, size: int) -> bool:
        return events <= self._max_events and BATCH_OVERHEAD + size <= self._max_bytes

    def _take(self) -> list[_Delivery]:
        """Whole deliveries, oldest first, within the limits (always at least one)."""
        batch = [self._waiting.pop(0)]
        events, size = len(batch[0].encoded), batch[0].size
        while self._waiting:
            following = self._waiting[0]
            events += len(following.encoded)
            size += following.size
            if not self._fits(events, size):
                break
            batch.append(self._waiting.pop(0))
        return batch

    def _requests(self, batch: list[_Delivery]) -> list[TaskRequest]:
        if len(batch) > 1:
            # Several deliveries, together within the limits (see _take).
            return [
                _batch_request(
                    [item for delivery in batch for item in delivery.encoded],
                    batch[0].correlation_id,
                )
            ]
        (delivery,) = batch
        if len(delivery.encoded) <= self._max_events:
            # A delivery alone: one task per event, named after it, so the queue itself
            # refuses a provider's retry. (Each body is within a task's size: task_bodies.)
            return [_single(item, delivery.correlation_id) for item in delivery.encoded]
        return [
            _single(part[0], delivery.correlation_id)
            if len(part) == 1
            else _batch_request(part, delivery.correlation_id)
            for part in self._parts(delivery.encoded)
        ]

    def _parts(self, encoded: list[EncodedTask]) -> Iterator[list[EncodedTask]]:
        """A delivery with more events than a batch holds, in order, in parts within the
        limits. Decided by the events' stable sizes plus a fixed allowance for what varies
        per task, so the same events always give the same parts; the actual sizes are
        checked too (they exceed the allowance only with an odd correlation id)."""
        part: list[EncodedTask] = []
        stable = actual = 0
        for item, stable_size in zip(encoded, _stable_sizes(encoded), strict=True):
            item_stable = stable_size + ENVELOPE_ALLOWANCE + 1
            item_actual = len(item.body) + 1
            if part and not (
                self._fits(len(part) + 1, stable + item_stable)
                and self._fits(0, actual + item_actual)
            ):
                yield part
                part, stable, actual = [], 0, 0
            part.append(item)
            stable += item_stable
            actual += item_actual
        if part:
            yield part


def _stable_sizes(encoded: list[EncodedTask]) -> list[int]:
    """Each body's size less what another delivery of its event may change; a delivery's
    tasks share their received_at and correlation id, so that is measured once a pair."""
    varying: dict[tuple[object, object], int] = {}
    sizes = []
    for item in encoded:
        pair = (item.task.received_at, item.task.correlation_id)
        if pair not in varying:
            varying[pair] = varying_size(item.task)
        sizes.append(len(item.body) - varying[pair])
    return sizes


def _single(item: EncodedTask, correlation_id: str) -> TaskRequest:
    event = item.task.event
    return TaskRequest(
        queue="inbound",
        task_id=keys.inbound_task_id(event.channel, event.event_id),
        target=PROCESS_INBOUND,
        body=item.body,
        correlation_id=correlation_id,
    )


def _batch_request(items: list[EncodedTask], correlation_id: str) -> TaskRequest:
    ids = sorted(
        keys.inbound_task_id(item.task.event.channel, item.task.event.event_id) for item in items
    )
    # The InboundBatch document, from the events' own JSON (already serialized once):
    # processing validates it as an InboundBatch like any task body.
    return TaskRequest(
        queue="inbound",
        task_id="inb-" + keys.stable_hash("batch", *ids),
        target=PROCESS_INBOUND,
        body=_BATCH_HEAD + b",".join(item.body for item in items) + _BATCH_TAIL,
        correlation_id=correlation_id,
    )
