"""Group commit of the webhook's tasks: alone, a delivery's events keep their own named
tasks; deliveries that arrive while an enqueue is in flight leave together in one task."""

import asyncio
from datetime import UTC, datetime

import pytest

from atende.domain.events import MessageKind, MessageReceived
from atende.errors import TransientError
from atende.tasks.contracts import PROCESS_TASK, InboundBatch, InboundTask
from atende.webhook.batcher import InboundBatcher

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def task(message_id, correlation_id="corr"):
    event = MessageReceived(
        channel="whatsapp", event_id=message_id, account_id="1", contact_id="5511999990000",
        occurred_at=T0, message_id=message_id, kind=MessageKind.TEXT, text="Oi",
    )  # fmt: skip
    return InboundTask(tenant_id="demo", event=event, received_at=T0, correlation_id=correlation_id)


class SlowQueue:
    """Each enqueue takes a moment (like a CreateTask call); can be told to fail."""

    def __init__(self, fail=False):
        self.requests = []
        self.fail = fail

    async def enqueue(self, request):
        await asyncio.sleep(0.01)
        if self.fail:
            raise TransientError("queue down")
        self.requests.append(request)
        return True


def test_a_lone_delivery_gets_one_task_per_event_named_after_the_event():
    queue = SlowQueue()

    async def scenario():
        await InboundBatcher(queue).enqueue([task("wamid.A"), task("wamid.B")], "corr")

    asyncio.run(scenario())
    assert len(queue.requests) == 2
    bodies = [PROCESS_TASK.validate_json(r.body) for r in queue.requests]
    assert [b.event.event_id for b in bodies] == ["wamid.A", "wamid.B"]
    assert all(
        r.task_id.startswith("in-") and r.target == "process_inbound" for r in queue.requests
    )


def test_deliveries_arriving_while_an_enqueue_is_in_flight_leave_together_in_one_task():
    queue = SlowQueue()

    async def scenario():
        batcher = InboundBatcher(queue)
        first = asyncio.create_task(batcher.enqueue([task("wamid.0", "corr-0")], "corr-0"))
        await asyncio.sleep(0.002)  # the first CreateTask is in flight
        await asyncio.gather(
            *(batcher.enqueue([task(f"wamid.{n}", f"corr-{n}")], f"corr-{n}") for n in range(1, 6))
        )
        await first

    asyncio.run(scenario())
    assert len(queue.requests) == 2
    first, batch = queue.requests
    assert PROCESS_TASK.validate_json(first.body).event.event_id == "wamid.0"
    parsed = PROCESS_TASK.validate_json(batch.body)
    assert isinstance(parsed, InboundBatch)
    assert [t.event.event_id for t in parsed.tasks] == [f"wamid.{n}" for n in range(1, 6)]
    assert [t.correlation_id for t in parsed.tasks] == [f"corr-{n}" for n in range(1, 6)]
    assert batch.task_id.startswith("inb-") and batch.correlation_id == "corr-1"


def test_the_same_batch_gets_the_same_task_id_whatever_the_order():
    def batch_id(order):
        queue = SlowQueue()

        async def scenario():
            batcher = InboundBatcher(queue)
            await asyncio.gather(*(batcher.enqueue([task(m)], "c") for m in order))

        asyncio.run(scenario())
        (request,) = queue.requests
        return request.task_id

    assert batch_id(["a", "b", "c"]) == batch_id(["c", "b", "a"]) != batch_id(["a", "b"])


def test_a_batch_respects_the_event_limit_and_never_splits_a_delivery():
    queue = SlowQueue()

    async def scenario():
        batcher = InboundBatcher(queue, max_events=3)
        deliveries = [[task("first")], [task("a1"), task("a2")], [task("b1"), task("b2")]]
        await asyncio.gather(*(batcher.enqueue(d, "c") for d in deliveries))

    asyncio.run(scenario())
    contents = []
    for request in queue.requests:
        parsed = PROCESS_TASK.validate_json(request.body)
        tasks = parsed.tasks if isinstance(parsed, InboundBatch) else (parsed,)
        contents.append([t.event.event_id for t in tasks])
    # first + a1 + a2 fill one batch; the b-delivery would exceed it and goes on its own.
    assert contents == [["first", "a1", "a2"], ["b1"], ["b2"]]


def test_a_failed_enqueue_fails_every_delivery_waiting_on_it_and_the_next_ones_still_go():
    queue = SlowQueue(fail=True)

    async def scenario():
        batcher = InboundBatcher(queue)
        results = await asyncio.gather(
            *(batcher.enqueue([task(f"m{n}")], "c") for n in range(3)), return_exceptions=True
        )
        queue.fail = False
        await batcher.enqueue([task("later")], "c")
        return results

    results = asyncio.run(scenario())
    assert all(isinstance(result, TransientError) for result in results)
    assert [PROCESS_TASK.validate_json(r.body).event.event_id for r in queue.requests] == ["later"]


def test_nothing_to_enqueue_returns_at_once():
    queue = SlowQueue()
    asyncio.run(InboundBatcher(queue).enqueue([], "c"))
    assert queue.requests == []


@pytest.mark.parametrize("events", [1, 2])
def test_a_delivery_over_the_byte_limit_goes_as_its_own_events(events):
    queue = SlowQueue()

    async def scenario():
        batcher = InboundBatcher(queue, max_bytes=10)
        first = batcher.enqueue([task("first")], "c")
        big = batcher.enqueue([task(f"big{n}") for n in range(events)], "c")
        await asyncio.gather(first, big)

    asyncio.run(scenario())
    assert len(queue.requests) == 1 + events
    assert all(r.task_id.startswith("in-") for r in queue.requests)


def test_a_batch_that_cannot_be_built_fails_its_deliveries_and_the_next_ones_still_go(
    monkeypatch,
):
    queue = SlowQueue()

    async def scenario():
        batcher = InboundBatcher(queue)
        real = batcher._requests
        broken = iter([True])

        def requests(batch):
            if next(broken, False):
                raise ValueError("cannot serialize")
            return real(batch)

        monkeypatch.setattr(batcher, "_requests", requests)
        with pytest.raises(ValueError, match="cannot serialize"):
            await batcher.enqueue([task("first")], "c")
        await asyncio.wait_for(batcher.enqueue([task("second")], "c"), timeout=1)

    asyncio.run(scenario())
    assert [PROCESS_TASK.validate_json(r.body).event.event_id for r in queue.requests] == ["second"]
