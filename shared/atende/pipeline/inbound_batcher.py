"""Group commit for the webhook's tasks: deliveries that arrive while an enqueue is in flight
leave together, in one Cloud Tasks task, when it returns.

A lone delivery is enqueued at once, as one task per event named after the event (so the
queue itself refuses a provider's retry), with no timer and no added wait; so is a delivery
over a batch's limits. Under load, each
CreateTask call carries every delivery that arrived during the previous one, which is what
keeps a webhook instance near a bare function's rate: the call, not the events, costs the
time. A batch task's id hashes its events' ids; a provider retry that lands in another batch
is caught by processing's dedupe, like any redelivery. Every delivery still waits for its
own events to be enqueued before it is acknowledged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from atende.domain import keys
from atende.pipeline.tasks import PROCESS_INBOUND, InboundBatch, InboundTask
from atende.ports import AsyncTaskQueue, TaskRequest

#: Limits of one batch task; a delivery is never split across tasks unless alone it exceeds
#: them (Cloud Tasks refuses a task over 1 MB).
MAX_BATCH_EVENTS = 100
MAX_BATCH_BYTES = 512 * 1024
BATCH_KIND: bytes = InboundBatch.model_fields["kind"].default.encode()


@dataclass
class _Delivery:
    tasks: list[InboundTask]
    correlation_id: str
    done: asyncio.Future[None]
    bodies: list[bytes] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(body) for body in self.bodies)


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
            tasks, correlation_id, asyncio.get_running_loop().create_future(),
            [task.model_dump_json().encode() for task in tasks],
        )  # fmt: skip
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

    def _take(self) -> list[_Delivery]:
        """Whole deliveries, oldest first, within the limits (always at least one)."""
        batch = [self._waiting.pop(0)]
        events, size = len(batch[0].tasks), batch[0].size
        while self._waiting:
            following = self._waiting[0]
            events += len(following.tasks)
            size += following.size
            if events > self._max_events or size > self._max_bytes:
                break
            batch.append(self._waiting.pop(0))
        return batch

    def _requests(self, batch: list[_Delivery]) -> list[TaskRequest]:
        if len(batch) == 1:
            # A delivery alone (or one over the limits): one task per event, named after
            # it, so the queue itself refuses a provider's retry.
            return [
                _single(task, body, delivery.correlation_id)
                for delivery in batch
                for task, body in zip(delivery.tasks, delivery.bodies, strict=True)
            ]
        ids = sorted(
            keys.inbound_task_id(task.event.channel, task.event.event_id)
            for delivery in batch
            for task in delivery.tasks
        )
        # The InboundBatch document, from the events' own JSON (already serialized once):
        # processing validates it as an InboundBatch like any task body.
        items = b",".join(body for delivery in batch for body in delivery.bodies)
        return [
            TaskRequest(
                queue="inbound",
                task_id="inb-" + keys.stable_hash("batch", *ids),
                target=PROCESS_INBOUND,
                body=b'{"kind":"%s","tasks":[%s]}' % (BATCH_KIND, items),
                correlation_id=batch[0].correlation_id,
            )
        ]


def _single(task: InboundTask, body: bytes, correlation_id: str) -> TaskRequest:
    return TaskRequest(
        queue="inbound",
        task_id=keys.inbound_task_id(task.event.channel, task.event.event_id),
        target=PROCESS_INBOUND,
        body=body,
        correlation_id=correlation_id,
    )
