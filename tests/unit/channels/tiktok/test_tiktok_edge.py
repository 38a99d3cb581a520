"""The webhook edge with the TikTok connector built by its wiring, a fixed clock and a
recording queue: signatures, replays, tenants, acknowledgement."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.plugin import ChannelDeps
from atende.channels.tiktok import sample, wiring
from atende.config import Settings
from atende.errors import TransientError
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

DATA = Path(__file__).resolve().parents[3] / "data" / "tiktok"
SECRETS = {"TIKTOK_CLIENT_SECRET": "tt-secret"}
NOW = datetime(2024, 11, 18, 12, 0, 30, tzinfo=UTC)
SENT_AT = int(NOW.timestamp()) - 2


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class RecordingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[Any] = []
        self.fail = fail

    async def enqueue(self, task: Any) -> bool:
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True


def unused() -> Any:
    raise AssertionError("the webhook needs no channel state or task queue of its own")


@pytest.fixture(autouse=True)
def tenants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_TIKTOK_TENANTS", json.dumps({"bwo2m45353a6k85": "acme"}))
    monkeypatch.delenv("ATENDE_TIKTOK_SIGNATURE_TOLERANCE_SECONDS", raising=False)


def edge(
    queue: RecordingQueue, secrets: dict[str, str] = SECRETS, clock: FixedClock | None = None
) -> WebhookEdge:
    clock = clock or FixedClock()
    deps = ChannelDeps(
        settings=Settings(),
        secrets=EnvSecretSource(environ=secrets, dotenv_path=None),
        clock=clock,
        state=unused,
        tasks=unused,
    )
    return WebhookEdge(wiring.PLUGIN.connector(deps), queue, 1024 * 1024, clock)


def post(body: bytes, secret: str | None = "tt-secret", sent_at: int = SENT_AT) -> EdgeRequest:
    headers = {"TikTok-Signature": sample.header_for(body, secret, sent_at)} if secret else {}
    return EdgeRequest(method="POST", headers=headers, body=body)


def fixture(name: str) -> bytes:
    return (DATA / f"{name}.json").read_bytes()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def tasks_of(queue: RecordingQueue) -> list[InboundTask]:
    return [InboundTask.model_validate_json(task.body) for task in queue.tasks]


def test_a_signed_comment_is_enqueued_for_its_tenant() -> None:
    queue = RecordingQueue()
    response = run(edge(queue).handle(post(fixture("comment_update_insert")), "corr-1"))
    assert (response.status, response.body) == (200, "EVENT_RECEIVED")
    [task] = tasks_of(queue)
    assert task.tenant_id == "acme" and task.event.type == "comment_received"
    assert queue.tasks[0].correlation_id == "corr-1"


def test_a_published_post_is_enqueued() -> None:
    queue = RecordingQueue()
    run(edge(queue).handle(post(fixture("post_publish_publicly_available")), "c"))
    assert [t.event.type for t in tasks_of(queue)] == ["video_published"]


def test_a_redelivery_signed_later_gets_the_same_task_name() -> None:
    queue = RecordingQueue()
    run(edge(queue).handle(post(fixture("comment_update_insert"), sent_at=SENT_AT - 100), "c1"))
    run(edge(queue).handle(post(fixture("comment_update_insert")), "c2"))
    assert len(queue.tasks) == 2 and queue.tasks[0].task_id == queue.tasks[1].task_id


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_a_replayed_or_future_delivery_is_refused_and_nothing_is_enqueued(age: int) -> None:
    queue = RecordingQueue()
    request_ = post(fixture("comment_update_insert"), sent_at=int(NOW.timestamp()) - age)
    response = run(edge(queue).handle(request_, "c"))
    assert (response.status, response.body) == (401, "stale_signature")
    assert queue.tasks == []


def test_the_tolerance_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_TIKTOK_SIGNATURE_TOLERANCE_SECONDS", "900")
    queue = RecordingQueue()
    request_ = post(fixture("comment_update_insert"), sent_at=int(NOW.timestamp()) - 600)
    assert run(edge(queue).handle(request_, "c")).status == 200


@pytest.mark.parametrize(
    "request_",
    [
        post(fixture("comment_update_insert"), secret=None),
        post(fixture("comment_update_insert"), secret="wrong"),
        EdgeRequest(
            method="POST",
            headers={"tiktok-signature": f"t={SENT_AT},s={'0' * 64}"},
            body=fixture("comment_update_insert"),
        ),
    ],
    ids=["missing", "wrong-secret", "forged"],
)
def test_a_bad_or_missing_signature_is_refused(request_: EdgeRequest) -> None:
    queue = RecordingQueue()
    response = run(edge(queue).handle(request_, "c"))
    assert (response.status, response.body) == (401, "bad_signature")
    assert queue.tasks == []


def test_a_missing_client_secret_fails_closed() -> None:
    queue = RecordingQueue()
    response = run(edge(queue, secrets={}).handle(post(fixture("comment_update_insert")), "c"))
    assert response.status == 500 and queue.tasks == []


def test_a_signed_body_that_is_not_json_is_a_bad_request() -> None:
    assert run(edge(RecordingQueue()).handle(post(b"{not json"), "c")).status == 400


def test_an_unsupported_event_is_kept_for_its_tenant() -> None:
    queue = RecordingQueue()
    assert run(edge(queue).handle(post(fixture("authorization_removed")), "c")).status == 200
    [task] = tasks_of(queue)
    assert task.event.type == "unsupported" and task.tenant_id == "acme"


def test_an_unknown_client_key_is_acknowledged_but_not_processed() -> None:
    document = json.loads(fixture("comment_update_insert")) | {"client_key": "someone-else"}
    queue = RecordingQueue()
    assert run(edge(queue).handle(post(json.dumps(document).encode()), "c")).status == 200
    assert queue.tasks == []


def test_enqueue_failure_asks_tiktok_to_retry() -> None:
    request_ = post(fixture("comment_update_insert"))
    assert run(edge(RecordingQueue(fail=True)).handle(request_, "c")).status == 503


def test_there_is_no_get_handshake() -> None:
    assert run(edge(RecordingQueue()).handle(EdgeRequest(method="GET"), "c")).status == 403


def test_the_channel_sends_nothing() -> None:
    assert wiring.PLUGIN.provider_api is None and wiring.PLUGIN.text_limit is None


def test_the_simulated_delivery_is_signed_now_and_accepted() -> None:
    secrets = EnvSecretSource(environ=SECRETS, dotenv_path=None)
    delivery = sample.simulated_delivery("Oi", "act.dev-user", secrets)
    queue = RecordingQueue()
    request_ = EdgeRequest(method="POST", headers=delivery.headers, body=delivery.body)
    clock = FixedClock(datetime.now(UTC))
    assert run(edge(queue, clock=clock).handle(request_, "c")).status == 200
    [task] = tasks_of(queue)
    assert task.event.type == "comment_received" and task.tenant_id == "acme"
