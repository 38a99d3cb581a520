"""The webhook edge with the real WhatsApp connector and a recording queue."""

import asyncio
import json
import subprocess
import sys

import pytest

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.graph.signature import signature_for
from atende.channels.whatsapp import sample
from atende.channels.whatsapp.connector import WhatsAppConnector
from atende.errors import TransientError
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

SECRETS = {"WHATSAPP_APP_SECRET": "s3cret", "WHATSAPP_VERIFY_TOKEN": "tok"}
TENANTS = {sample.DEV_PHONE_NUMBER_ID: "demo"}


class RecordingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks = []
        self.fail = fail

    async def enqueue(self, task):
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True


def edge(queue, secrets=SECRETS, limit=1024 * 1024):
    connector = WhatsAppConnector(EnvSecretSource(environ=secrets, dotenv_path=None), TENANTS)
    return WebhookEdge(connector, queue, limit, SystemClock())


def post(body: bytes, secret: str | None = "s3cret", headers=None):
    signed = {"x-hub-signature-256": signature_for(body, secret)} if secret else {}
    return EdgeRequest(method="POST", headers={**signed, **(headers or {})}, body=body)


def run(coro):
    return asyncio.run(coro)


def two_messages_body(phone_number_id=sample.DEV_PHONE_NUMBER_ID):
    messages = [
        sample.text_message("5511999990000", "Oi", message_id="wamid.A", timestamp=1700000000),
        sample.text_message(
            "5511999990000", "tudo bem?", message_id="wamid.B", timestamp=1700000001
        ),
    ]
    return sample.encode(sample.delivery(messages, phone_number_id=phone_number_id))


def test_a_signed_delivery_enqueues_one_named_task_per_event():
    queue = RecordingQueue()
    response = run(edge(queue).handle(post(two_messages_body()), "corr-1"))
    assert (response.status, response.body) == (200, "EVENT_RECEIVED")
    assert [t.target for t in queue.tasks] == ["process_inbound", "process_inbound"]
    assert len({t.task_id for t in queue.tasks}) == 2
    assert all(t.correlation_id == "corr-1" and t.queue == "inbound" for t in queue.tasks)
    bodies = [InboundTask.model_validate_json(t.body) for t in queue.tasks]
    assert [b.event.event_id for b in bodies] == ["wamid.A", "wamid.B"]
    assert {b.tenant_id for b in bodies} == {"demo"}


def test_the_same_delivery_twice_yields_the_same_task_names():
    queue = RecordingQueue()
    run(edge(queue).handle(post(two_messages_body()), "c1"))
    run(edge(queue).handle(post(two_messages_body()), "c2"))
    names = [t.task_id for t in queue.tasks]
    assert names[:2] == names[2:]


@pytest.mark.parametrize(
    "request_",
    [
        post(two_messages_body(), secret=None),
        post(two_messages_body(), secret="wrong"),
        post(
            two_messages_body(), secret=None, headers={"x-hub-signature-256": "sha256=" + "0" * 64}
        ),
    ],
    ids=["missing", "wrong-secret", "forged"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_enqueued(request_):
    queue = RecordingQueue()
    assert run(edge(queue).handle(request_, "c")).status == 401
    assert queue.tasks == []


def test_a_missing_app_secret_fails_closed():
    queue = RecordingQueue()
    response = run(edge(queue, secrets={}).handle(post(two_messages_body()), "c"))
    assert response.status == 500
    assert queue.tasks == []


def test_an_oversized_body_is_refused_before_verification():
    queue = RecordingQueue()
    response = run(edge(queue, limit=100).handle(post(b"x" * 101), "c"))
    assert response.status == 413 and queue.tasks == []


def test_a_signed_body_that_is_not_json_is_a_bad_request():
    assert run(edge(RecordingQueue()).handle(post(b"not json"), "c")).status == 400


def test_an_unknown_shape_is_kept_as_an_unsupported_event_and_acknowledged():
    queue = RecordingQueue()
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "x",
                            "value": {"metadata": {"phone_number_id": sample.DEV_PHONE_NUMBER_ID}},
                        }
                    ]
                }
            ],
        }
    ).encode()
    assert run(edge(queue).handle(post(body), "c")).status == 200
    assert [InboundTask.model_validate_json(t.body).event.type for t in queue.tasks] == [
        "unsupported"
    ]


def test_an_unknown_phone_number_id_is_acknowledged_but_not_processed():
    queue = RecordingQueue()
    response = run(edge(queue).handle(post(two_messages_body("999")), "c"))
    assert response.status == 200 and queue.tasks == []


def test_enqueue_failure_asks_the_provider_to_retry():
    assert run(edge(RecordingQueue(fail=True)).handle(post(two_messages_body()), "c")).status == 503


def test_handshake_echoes_the_challenge_only_for_our_token():
    ok = EdgeRequest(
        method="GET",
        query={"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"},
    )
    bad = EdgeRequest(
        method="GET",
        query={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert run(edge(RecordingQueue()).handle(ok, "c")).body == "1158201444"
    assert run(edge(RecordingQueue()).handle(bad, "c")).status == 403
    assert run(edge(RecordingQueue(), secrets={}).handle(ok, "c")).status == 403


def test_other_methods_are_not_allowed():
    assert run(edge(RecordingQueue()).handle(EdgeRequest(method="PUT"), "c")).status == 405


def test_the_webhook_never_imports_the_outbox_or_session_models() -> None:
    """The webhook builds inbound tasks only: what the send tasks carry stays out of its cold
    start (a fresh interpreter: what this one has imported says nothing)."""
    probe = "import json, sys, atende.webhook.edge; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(run.stdout))
    assert not loaded & {
        "atende.domain.outbox",
        "atende.domain.session",
        "atende.tasks.outbound_task",
    }
