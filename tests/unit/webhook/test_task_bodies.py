"""Every inbound task body is one Cloud Tasks, the worker and Firestore can take: events too
large, too deep or holding lone surrogates are kept, repaired deterministically, and a
delivery with more events than a batch is split the same way on every redelivery."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.graph.signature import signature_for
from atende.channels.whatsapp import sample
from atende.channels.whatsapp.connector import WhatsAppConnector
from atende.domain.events import (
    MessageFailed,
    MessageKind,
    MessageReceived,
    ProviderError,
    UnsupportedEvent,
)
from atende.tasks.contracts import PROCESS_TASK, InboundBatch, InboundTask
from atende.webhook.batcher import InboundBatcher
from atende.webhook.edge import EdgeRequest, WebhookEdge
from atende.webhook.task_bodies import MAX_TASK_BODY_BYTES, OVERSIZED, encode

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SECRETS = {"WHATSAPP_APP_SECRET": "s3cret", "WHATSAPP_VERIFY_TOKEN": "tok"}


class RecordingQueue:
    def __init__(self) -> None:
        self.tasks: list = []

    async def enqueue(self, task) -> bool:
        self.tasks.append(task)
        return True


def whatsapp_edge(queue: RecordingQueue) -> WebhookEdge:
    connector = WhatsAppConnector(
        EnvSecretSource(environ=SECRETS, dotenv_path=None), {sample.DEV_PHONE_NUMBER_ID: "demo"}
    )
    return WebhookEdge(connector, queue, 1024 * 1024, SystemClock())


def signed(body: bytes) -> EdgeRequest:
    headers = {"x-hub-signature-256": signature_for(body, "s3cret")}
    return EdgeRequest(method="POST", headers=headers, body=body)


def message(text: str = "Oi", *, event_id: str = "wamid.A", **fields) -> MessageReceived:
    return MessageReceived(
        channel="whatsapp", event_id=event_id, account_id="1", contact_id="5511999990000",
        occurred_at=T0, message_id=event_id, kind=MessageKind.TEXT, text=text, **fields,
    )  # fmt: skip


def task(event, *, correlation_id: str = "corr", received_at: datetime = T0) -> InboundTask:
    return InboundTask(
        tenant_id="demo", event=event, received_at=received_at, correlation_id=correlation_id
    )


def test_a_signed_message_too_large_for_a_task_is_kept_whole_with_its_raw_copy_cut():
    text = "a" * 450_000  # the event would carry it twice: in its text and its raw item
    message_item = sample.text_message("5511999990000", text, message_id="wamid.BIG")
    body = json.dumps(sample.delivery([message_item])).encode()
    assert len(body) < 1024 * 1024
    queue = RecordingQueue()
    response = asyncio.run(whatsapp_edge(queue).handle(signed(body), "corr"))
    assert response.status == 200
    (request,) = queue.tasks
    assert len(request.body) <= MAX_TASK_BODY_BYTES
    event = PROCESS_TASK.validate_json(request.body).event
    assert event.text == text and event.event_id == "wamid.BIG"
    raw_json = json.dumps(message_item, ensure_ascii=False, separators=(",", ":")).encode()
    assert event.raw["atende_truncated"] is True
    assert event.raw["bytes"] == len(raw_json)
    assert event.raw["sha256"] == hashlib.sha256(raw_json).hexdigest()
    assert raw_json.decode().startswith(event.raw["head"])


def test_an_event_too_large_even_without_its_raw_copy_keeps_its_texts_cut():
    encoded = encode(task(message("b" * 700_000, raw={"text": {"body": "b" * 700_000}})))
    assert len(encoded.body) <= MAX_TASK_BODY_BYTES
    event = PROCESS_TASK.validate_json(encoded.body).event
    assert isinstance(event, MessageReceived)
    assert event.text.startswith("b" * 8192) and event.text.endswith("[truncated]")


def test_an_event_of_countless_fields_becomes_an_unsupported_event_with_its_ids():
    errors = tuple(ProviderError(code=n, title="x" * 40) for n in range(20_000))
    failed = MessageFailed(
        channel="whatsapp", event_id="wamid.F:failed", account_id="1", occurred_at=T0,
        provider_message_id="wamid.F", errors=errors,
    )  # fmt: skip
    encoded = encode(task(failed))
    event = PROCESS_TASK.validate_json(encoded.body).event
    assert isinstance(event, UnsupportedEvent) and event.reason == OVERSIZED
    assert (event.event_id, event.account_id) == ("wamid.F:failed", "1")
    assert len(encoded.body) <= MAX_TASK_BODY_BYTES


def test_a_raw_payload_too_deep_for_the_worker_is_kept_as_text_below_the_limit():
    deep = json.loads('{"a":' + "[" * 150 + "1" + "]" * 150 + "}")
    encoded = encode(task(message(raw=deep)))
    event = PROCESS_TASK.validate_json(encoded.body).event  # the worker reads it
    kept = json.dumps(event.raw)
    assert kept.count("[") >= 150  # nothing dropped: the deep part is text
    assert encode(task(message(raw=deep))).body == encoded.body  # deterministic


def test_lone_surrogates_that_reach_an_event_are_replaced_everywhere():
    event = message("Oi \ud83d", event_id="wamid.\udc00", raw={"\ud800": ["\udfff"]})
    encoded = encode(task(event))
    encoded.body.decode("utf-8")
    parsed = PROCESS_TASK.validate_json(encoded.body).event
    assert parsed.text == "Oi \ufffd" and parsed.event_id == "wamid.\ufffd"
    assert parsed.raw == {"\ufffd": ["\ufffd"]}
    assert encoded.task.event.event_id == "wamid.\ufffd"  # what the task is named after


def test_a_large_delivery_is_split_the_same_way_whatever_its_correlation_id_and_time():
    # 300 events of ~12 KiB: the parts are bound by size, not by the event count.
    events = [message("t" * 12_000, event_id=f"wamid.{n}") for n in range(300)]

    def names(correlation_id: str, received_at: datetime) -> list[str]:
        queue = RecordingQueue()
        tasks = [task(e, correlation_id=correlation_id, received_at=received_at) for e in events]
        asyncio.run(InboundBatcher(queue).enqueue(tasks, correlation_id))
        assert all(len(r.body) <= MAX_TASK_BODY_BYTES for r in queue.tasks)
        ids = [
            t.event.event_id
            for r in queue.tasks
            for t in PROCESS_TASK.validate_json(r.body).tasks  # type: ignore[union-attr]
        ]
        assert ids == [e.event_id for e in events]
        return [r.task_id for r in queue.tasks]

    first = names("c", T0)
    assert len(first) > 300 // 100  # more parts than the event count alone asks for
    assert names("c" * 200, T0.replace(microsecond=123456)) == first


def test_a_delivery_with_more_events_than_a_batch_goes_in_batch_tasks_not_one_per_event():
    queue = RecordingQueue()
    tasks = [task(message(event_id=f"wamid.{n}")) for n in range(250)]
    asyncio.run(InboundBatcher(queue).enqueue(tasks, "corr"))
    parsed = [PROCESS_TASK.validate_json(r.body) for r in queue.tasks]
    assert [len(p.tasks) for p in parsed if isinstance(p, InboundBatch)] == [100, 100, 50]
    assert all(r.task_id.startswith("inb-") for r in queue.tasks)
