"""The webhook edge with the LinkedIn connector built by its wiring, and a recording queue."""

from __future__ import annotations

import asyncio
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.linkedin import sample, wiring
from atende.channels.plugin import ChannelDeps
from atende.config import Settings
from atende.domain.messages import TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import TransientError
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

DATA = Path(__file__).resolve().parents[3] / "data" / "linkedin"
ORG = "urn:li:organization:2414183"
SECRETS = {"LINKEDIN_CLIENT_SECRET": "li-secret", "LINKEDIN_ACCESS_TOKEN": "li-token"}


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
    monkeypatch.setenv("ATENDE_LINKEDIN_TENANTS", json.dumps({ORG: "acme"}))


def edge(queue: RecordingQueue, secrets: dict[str, str] = SECRETS) -> WebhookEdge:
    deps = ChannelDeps(
        settings=Settings(),
        secrets=EnvSecretSource(environ=secrets, dotenv_path=None),
        clock=SystemClock(),
        state=unused,
        tasks=unused,
    )
    return WebhookEdge(wiring.PLUGIN.connector(deps), queue, 1024 * 1024, SystemClock())


def post(body: bytes, secret: str | None = "li-secret", headers: dict[str, str] | None = None):
    signed = {"X-LI-Signature": sample.signature_for(body, secret)} if secret else {}
    return EdgeRequest(method="POST", headers={**signed, **(headers or {})}, body=body)


def fixture(name: str) -> bytes:
    return (DATA / f"{name}.json").read_bytes()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def tasks_of(queue: RecordingQueue) -> list[InboundTask]:
    return [InboundTask.model_validate_json(task.body) for task in queue.tasks]


def test_a_signed_batch_enqueues_one_named_task_per_notification() -> None:
    queue = RecordingQueue()
    response = run(edge(queue).handle(post(fixture("delivery_batch_mixed")), "corr-1"))
    assert (response.status, response.body) == (200, "EVENT_RECEIVED")
    tasks = tasks_of(queue)
    assert [t.event.event_id for t in tasks] == ["5603453331", "5603453332", "5603453333"]
    assert [t.event.type for t in tasks] == ["comment_received", "unsupported", "comment_received"]
    assert {t.tenant_id for t in tasks} == {"acme"}
    assert len({t.task_id for t in queue.tasks}) == 3
    assert all(t.correlation_id == "corr-1" for t in queue.tasks)


def test_a_redelivered_notification_gets_the_same_task_name() -> None:
    queue = RecordingQueue()
    run(edge(queue).handle(post(fixture("notification_comment")), "c1"))
    run(edge(queue).handle(post(fixture("notification_comment")), "c2"))
    assert queue.tasks[0].task_id == queue.tasks[1].task_id


@pytest.mark.parametrize(
    "request_",
    [
        post(fixture("notification_comment"), secret=None),
        post(fixture("notification_comment"), secret="wrong"),
        post(fixture("notification_comment"), secret=None, headers={"x-li-signature": "0" * 64}),
    ],
    ids=["missing", "wrong-secret", "forged"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_enqueued(request_: Any) -> None:
    queue = RecordingQueue()
    assert run(edge(queue).handle(request_, "c")).status == 401
    assert queue.tasks == []


def test_a_missing_client_secret_fails_closed() -> None:
    queue = RecordingQueue()
    response = run(edge(queue, secrets={}).handle(post(fixture("notification_comment")), "c"))
    assert response.status == 500 and queue.tasks == []


def test_a_signed_body_that_is_not_json_is_a_bad_request() -> None:
    assert run(edge(RecordingQueue()).handle(post(b"not json"), "c")).status == 400


def test_another_notification_type_is_kept_under_the_unassigned_tenant() -> None:
    queue = RecordingQueue()
    assert run(edge(queue).handle(post(fixture("lead_action")), "c")).status == 200
    [task] = tasks_of(queue)
    assert task.event.type == "unsupported" and task.tenant_id == "_unassigned"


def test_a_comment_for_an_unknown_organization_is_acknowledged_but_not_processed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATENDE_LINKEDIN_TENANTS", json.dumps({"urn:li:organization:1": "x"}))
    queue = RecordingQueue()
    assert run(edge(queue).handle(post(fixture("notification_comment")), "c")).status == 200
    assert queue.tasks == []


def test_enqueue_failure_asks_linkedin_to_retry() -> None:
    response = run(
        edge(RecordingQueue(fail=True)).handle(post(fixture("notification_comment")), "c")
    )
    assert response.status == 503


def test_the_challenge_is_answered_as_json_only_with_our_secret() -> None:
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
    request_ = EdgeRequest(method="GET", query={"challengeCode": code})
    response = run(edge(RecordingQueue()).handle(request_, "c"))
    assert (response.status, response.media_type) == (200, "application/json")
    answer = json.loads(response.body)
    assert answer["challengeCode"] == code
    assert (
        answer["challengeResponse"] == hmac.new(b"li-secret", code.encode(), "sha256").hexdigest()
    )
    assert run(edge(RecordingQueue(), secrets={}).handle(request_, "c")).status == 403
    assert run(edge(RecordingQueue()).handle(EdgeRequest(method="GET"), "c")).status == 403


@pytest.mark.parametrize("code", ["abc", "123", "890e4665-4dfe-4ab1-b689"])
def test_a_challenge_code_that_is_not_a_uuid_is_refused_not_echoed(code: str) -> None:
    # LinkedIn documents challengeCode as a "randomly generated type-4 UUID string".
    request_ = EdgeRequest(method="GET", query={"challengeCode": code})
    response = run(edge(RecordingQueue()).handle(request_, "c"))
    assert response.status == 403
    assert code not in response.body


def test_the_simulated_delivery_is_accepted_as_a_comment_from_the_contact() -> None:
    secrets = EnvSecretSource(environ=SECRETS, dotenv_path=None)
    delivery = sample.simulated_delivery("Oi", "5511999990000", secrets)
    document = json.loads(delivery.body)
    document["notifications"][0]["organizationalEntity"] = ORG  # the test tenant's page
    body = sample.encode(document)
    queue = RecordingQueue()
    request_ = EdgeRequest(method="POST", headers=sample.signed_headers(body, secrets), body=body)
    assert run(edge(queue).handle(request_, "c")).status == 200
    [task] = tasks_of(queue)
    assert task.event.type == "comment_received"
    assert task.event.contact_id == "urn:li:person:5511999990000"
    assert getattr(task.event, "text", None) == "Oi"


def test_the_wiring_builds_the_comments_api_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_LINKEDIN_API_BASE_URL", "http://127.0.0.1:8089/linkedin")
    monkeypatch.setenv("ATENDE_LINKEDIN_API_VERSION", "202610")
    deps = ChannelDeps(
        settings=Settings(),
        secrets=EnvSecretSource(environ=SECRETS, dotenv_path=None),
        clock=SystemClock(),
        state=unused,
        tasks=unused,
    )
    now = datetime(2026, 11, 25, tzinfo=UTC)
    record = OutboxRecord(
        id="o1",
        tenant_id="acme",
        channel="linkedin",
        session_id="s1",
        account_id=ORG,
        recipient="urn:li:person:Dk968RHxiO",
        message=TextMessage(body="Olá!"),
        inbound_event_id="5603453321",
        reply_index=0,
        order_key="1",
        reply_context={"target_urn": "urn:li:activity:7094637247890620418"},
        created_at=now,
        updated_at=now,
        expire_at=now + timedelta(days=1),
    )
    call = wiring.PLUGIN.provider_api(deps).prepare(record)
    assert call.url.startswith("http://127.0.0.1:8089/linkedin/rest/socialActions/urn%3Ali%3A")
    assert call.headers["LinkedIn-Version"] == "202610"
    assert call.headers["Authorization"] == "Bearer li-token"
