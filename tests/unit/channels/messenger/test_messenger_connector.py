"""The Messenger connector through the webhook edge, its simulated delivery, its wiring and
its Send API client, as the deployed function uses them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.graph.signature import signature_for
from atende.channels.messenger import sample, wiring
from atende.channels.messenger.connector import messenger_connector
from atende.channels.plugin import ChannelDeps
from atende.domain.events import MessageReceived
from atende.domain.messages import Button, ButtonsMessage, OutboundMessage, TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import (
    ConfigurationError,
    InvalidOutboundMessageError,
    ProviderPermanentError,
    ProviderTransientError,
    TransientError,
)
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

SECRETS = {
    "MESSENGER_APP_SECRET": "m3ss3nger",
    "MESSENGER_VERIFY_TOKEN": "tok",
    "MESSENGER_PAGE_ACCESS_TOKEN": "EAAG-page-token",
}
TENANTS = {sample.DEV_PAGE_ID: "demo"}
PSID = "6543210987654321"


class RecordingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[Any] = []
        self.fail = fail

    async def enqueue(self, task: Any) -> bool:
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True


def secrets(values: dict[str, str] = SECRETS) -> EnvSecretSource:
    return EnvSecretSource(environ=values, dotenv_path=None)


def edge(queue: RecordingQueue, values: dict[str, str] = SECRETS) -> WebhookEdge:
    return WebhookEdge(
        messenger_connector(secrets(values), TENANTS), queue, 1024 * 1024, SystemClock()
    )


def post(body: bytes, secret: str | None = "m3ss3nger") -> EdgeRequest:
    headers = {"x-hub-signature-256": signature_for(body, secret)} if secret else {}
    return EdgeRequest(method="POST", headers=headers, body=body)


def handle(queue: RecordingQueue, request: EdgeRequest, values: dict[str, str] = SECRETS) -> Any:
    return asyncio.run(edge(queue, values).handle(request, "corr-1"))


def body_of(document: object) -> bytes:
    return json.dumps(document).encode()


def two_messages() -> bytes:
    return body_of(
        sample.delivery(
            [
                sample.text_message(PSID, "Oi", mid="m_A", timestamp=1719835920000),
                sample.text_message(PSID, "tudo bem?", mid="m_B", timestamp=1719835921000),
            ]
        )
    )


def tasks_of(queue: RecordingQueue) -> list[InboundTask]:
    return [InboundTask.model_validate_json(task.body) for task in queue.tasks]


def test_a_signed_delivery_enqueues_one_task_per_message_for_the_page_tenant() -> None:
    queue = RecordingQueue()
    response = handle(queue, post(two_messages()))
    assert (response.status, response.body) == (200, "EVENT_RECEIVED")
    tasks = tasks_of(queue)
    assert [t.event.event_id for t in tasks] == ["m_A", "m_B"]
    assert {t.tenant_id for t in tasks} == {"demo"}
    assert {t.event.channel for t in tasks} == {"messenger"}
    assert len({task.task_id for task in queue.tasks}) == 2


def test_the_same_delivery_twice_yields_the_same_task_names() -> None:
    queue = RecordingQueue()
    handle(queue, post(two_messages()))
    handle(queue, post(two_messages()))
    names = [task.task_id for task in queue.tasks]
    assert names[:2] == names[2:]


@pytest.mark.parametrize("secret", [None, "wrong"], ids=["missing", "wrong-secret"])
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_enqueued(secret: str | None) -> None:
    queue = RecordingQueue()
    assert handle(queue, post(two_messages(), secret=secret)).status == 401
    assert queue.tasks == []


def test_a_missing_app_secret_fails_closed() -> None:
    queue = RecordingQueue()
    values = {k: v for k, v in SECRETS.items() if k != "MESSENGER_APP_SECRET"}
    assert handle(queue, post(two_messages()), values).status == 500
    assert queue.tasks == []


def test_a_whatsapp_secret_does_not_open_the_messenger_webhook() -> None:
    queue = RecordingQueue()
    values = {"WHATSAPP_APP_SECRET": "m3ss3nger"}
    assert handle(queue, post(two_messages()), values).status == 500


def test_a_signed_body_that_is_not_json_is_a_bad_request() -> None:
    assert handle(RecordingQueue(), post(b"{not json")).status == 400


def test_an_echo_only_delivery_is_acknowledged_with_nothing_to_process() -> None:
    queue = RecordingQueue()
    echo = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": sample.DEV_PAGE_ID,
                    "time": 1719835920623,
                    "messaging": [
                        {
                            "sender": {"id": sample.DEV_PAGE_ID},
                            "recipient": {"id": PSID},
                            "timestamp": 1719835920123,
                            "message": {"is_echo": True, "mid": "m_echo", "text": "Olá!"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    assert handle(queue, post(echo)).status == 200
    assert queue.tasks == []


def test_an_unknown_event_type_is_kept_for_the_page_tenant() -> None:
    queue = RecordingQueue()
    item = {
        "sender": {"id": PSID},
        "recipient": {"id": sample.DEV_PAGE_ID},
        "timestamp": 1719835920123,
        "optin": {"type": "notification_messages"},
    }
    assert handle(queue, post(body_of(sample.delivery([item])))).status == 200
    (task,) = tasks_of(queue)
    assert task.event.type == "unsupported" and task.tenant_id == "demo"


def test_an_unknown_page_is_acknowledged_but_not_processed() -> None:
    queue = RecordingQueue()
    document = sample.delivery([sample.text_message(PSID, "Oi")], page_id="999")
    document["entry"][0]["messaging"][0]["recipient"]["id"] = "999"
    assert handle(queue, post(body_of(document))).status == 200
    assert queue.tasks == []


def test_enqueue_failure_asks_meta_to_retry() -> None:
    assert handle(RecordingQueue(fail=True), post(two_messages())).status == 503


def test_handshake_echoes_the_challenge_only_for_our_token() -> None:
    ok = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    bad = {**ok, "hub.verify_token": "nope"}
    assert handle(RecordingQueue(), EdgeRequest(method="GET", query=ok)).body == "1158201444"
    assert handle(RecordingQueue(), EdgeRequest(method="GET", query=bad)).status == 403
    no_token = {"MESSENGER_APP_SECRET": "m3ss3nger"}
    assert handle(RecordingQueue(), EdgeRequest(method="GET", query=ok), no_token).status == 403


def test_the_simulated_delivery_is_verified_and_parsed_by_the_connector() -> None:
    connector = messenger_connector(secrets(), TENANTS)
    delivery = sample.simulated_delivery("Oi, tudo bem?", PSID, secrets())
    assert delivery.method == "POST"
    connector.verify(delivery.body, delivery.headers)
    (event,) = connector.parse(delivery.body, delivery.headers)
    assert isinstance(event, MessageReceived)
    assert (event.text, event.contact_id, event.account_id) == (
        "Oi, tudo bem?",
        PSID,
        sample.DEV_PAGE_ID,
    )
    assert connector.tenant_for(event) == "demo"
    assert abs((datetime.now(UTC) - event.occurred_at).total_seconds()) < 60


def test_signed_headers_need_the_app_secret() -> None:
    with pytest.raises(ConfigurationError):
        sample.signed_headers(b"{}", secrets({}))


def deps(values: dict[str, str] = SECRETS) -> ChannelDeps:
    def unused() -> Any:
        raise AssertionError("not needed by this channel")

    return ChannelDeps(
        settings=None, secrets=secrets(values), clock=SystemClock(), state=unused, tasks=unused
    )  # type: ignore[arg-type]


def record(message: OutboundMessage, **fields: Any) -> OutboxRecord:
    now = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": "ob-1",
        "tenant_id": "demo",
        "channel": "messenger",
        "session_id": "s-1",
        "account_id": sample.DEV_PAGE_ID,
        "recipient": PSID,
        "message": message,
        "inbound_event_id": "m_A",
        "reply_index": 0,
        "order_key": "000000000001",
        "created_at": now,
        "updated_at": now,
        "expire_at": now,
        **fields,
    }
    return OutboxRecord(**values)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_MESSENGER_TENANTS", json.dumps({sample.DEV_PAGE_ID: "demo"}))
    monkeypatch.setenv("ATENDE_MESSENGER_API_BASE_URL", "http://127.0.0.1:8089/graph/v23.0")


def test_the_wiring_reads_tenants_and_the_api_base_url_from_settings(settings_env: None) -> None:
    assert wiring.PLUGIN.text_limit == 2000
    connector = wiring.PLUGIN.connector(deps())
    assert connector.channel == "messenger"
    call = wiring.PLUGIN.provider_api(deps()).prepare(record(TextMessage(body="Olá!")))
    assert call.url == f"http://127.0.0.1:8089/graph/v23.0/{sample.DEV_PAGE_ID}/messages"
    assert call.headers == {"Authorization": "Bearer EAAG-page-token"}
    assert call.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Olá!"},
    }


def test_the_default_api_is_graph_v23(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATENDE_MESSENGER_API_BASE_URL", raising=False)
    monkeypatch.chdir("/")  # no .env
    call = wiring.PLUGIN.provider_api(deps()).prepare(record(TextMessage(body="Olá!")))
    assert call.url.startswith("https://graph.facebook.com/v23.0/")


def test_buttons_go_out_as_quick_replies_and_a_comment_context_is_ignored(
    settings_env: None,
) -> None:
    message = ButtonsMessage(
        body="Posso ajudar?", buttons=(Button(id="handoff", title="Atendente"),)
    )
    call = wiring.PLUGIN.provider_api(deps()).prepare(
        record(message, reply_context={"comment_id": "1"})
    )
    assert call.url.endswith("/messages")
    assert call.json["message"]["quick_replies"] == [
        {"content_type": "text", "title": "Atendente", "payload": "handoff"}
    ]


def test_a_text_over_2000_characters_is_never_sent(settings_env: None) -> None:
    with pytest.raises(InvalidOutboundMessageError):
        wiring.PLUGIN.provider_api(deps()).prepare(record(TextMessage(body="a" * 2001)))


def test_a_missing_page_token_fails_closed(settings_env: None) -> None:
    values = {k: v for k, v in SECRETS.items() if k != "MESSENGER_PAGE_ACCESS_TOKEN"}
    with pytest.raises(ConfigurationError, match="Messenger access token"):
        wiring.PLUGIN.provider_api(deps(values)).prepare(record(TextMessage(body="Olá!")))


def test_the_provider_api_reads_the_message_id_and_classifies_errors(settings_env: None) -> None:
    api = wiring.PLUGIN.provider_api(deps())
    answer = json.dumps({"recipient_id": PSID, "message_id": "m_sandbox.7"}).encode()
    assert api.message_id(answer) == "m_sandbox.7"
    assert api.message_id(b"not json") is None
    assert api.message_id(b"[]") is None
    window = json.dumps({"error": {"code": 10, "error_subcode": 2018278}}).encode()
    assert isinstance(api.classify(400, window), ProviderPermanentError)
    throttled = json.dumps({"error": {"code": 613}}).encode()
    assert isinstance(api.classify(400, throttled), ProviderTransientError)
