"""The Instagram connector through the webhook edge, its simulated delivery, its wiring, and its
Send API client with comment replies, as the deployed functions use them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.graph.signature import signature_for
from atende.channels.instagram import sample, wiring
from atende.channels.instagram.connector import instagram_connector
from atende.channels.plugin import ChannelDeps
from atende.domain.events import CommentReceived, MessageReceived
from atende.domain.messages import MediaMessage, OutboundMessage, TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import ConfigurationError, InvalidOutboundMessageError, ProviderPermanentError
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

SECRETS = {
    "INSTAGRAM_APP_SECRET": "1nstagr4m",
    "INSTAGRAM_VERIFY_TOKEN": "ig-tok",
    "INSTAGRAM_ACCESS_TOKEN": "EAAG-ig-token",
}
TENANTS = {sample.DEV_ACCOUNT_ID: "demo"}
IGSID = "1096484225389462"


class RecordingQueue:
    def __init__(self) -> None:
        self.tasks: list[Any] = []

    async def enqueue(self, task: Any) -> bool:
        self.tasks.append(task)
        return True


def secrets(values: dict[str, str] = SECRETS) -> EnvSecretSource:
    return EnvSecretSource(environ=values, dotenv_path=None)


def handle(queue: RecordingQueue, request: EdgeRequest, values: dict[str, str] = SECRETS) -> Any:
    connector = instagram_connector(secrets(values), TENANTS)
    return asyncio.run(
        WebhookEdge(connector, queue, 1024 * 1024, SystemClock()).handle(request, "c")
    )


def post(body: bytes, secret: str | None = "1nstagr4m") -> EdgeRequest:
    headers = {"x-hub-signature-256": signature_for(body, secret)} if secret else {}
    return EdgeRequest(method="POST", headers=headers, body=body)


def body_of(document: object) -> bytes:
    return json.dumps(document).encode()


def tasks_of(queue: RecordingQueue) -> list[InboundTask]:
    return [InboundTask.model_validate_json(task.body) for task in queue.tasks]


def test_a_signed_message_and_a_comment_become_tasks_of_the_account_tenant() -> None:
    queue = RecordingQueue()
    message = sample.delivery([sample.text_message(IGSID, "Oi", mid="aWdf_1")])
    comment = sample.comment_delivery(
        "2397345603947561",
        "Qual o preço?",
        comment_id="17865799348089039",
        media_id="17887498072083520",
    )
    assert handle(queue, post(body_of(message))).status == 200
    assert handle(queue, post(body_of(comment))).status == 200
    tasks = tasks_of(queue)
    assert [t.event.type for t in tasks] == ["message_received", "comment_received"]
    assert {t.tenant_id for t in tasks} == {"demo"}
    assert (
        isinstance(tasks[1].event, CommentReceived)
        and tasks[1].event.target_id == "17887498072083520"
    )


@pytest.mark.parametrize("secret", [None, "m3ss3nger"], ids=["missing", "another-apps-secret"])
def test_a_bad_or_missing_signature_is_refused(secret: str | None) -> None:
    queue = RecordingQueue()
    body = body_of(sample.delivery([sample.text_message(IGSID, "Oi")]))
    assert handle(queue, post(body, secret)).status == 401
    assert queue.tasks == []


def test_a_missing_app_secret_fails_closed() -> None:
    body = body_of(sample.delivery([sample.text_message(IGSID, "Oi")]))
    assert handle(RecordingQueue(), post(body), {"INSTAGRAM_VERIFY_TOKEN": "ig-tok"}).status == 500


def test_a_signed_body_that_is_not_json_is_a_bad_request() -> None:
    assert handle(RecordingQueue(), post(b"\xff")).status == 400


def test_an_unknown_field_is_acknowledged_and_kept() -> None:
    queue = RecordingQueue()
    document = sample.comment_delivery("1", "x", comment_id="2", media_id="3")
    document["entry"][0]["changes"][0]["field"] = "story_insights"
    assert handle(queue, post(body_of(document))).status == 200
    (task,) = tasks_of(queue)
    assert task.event.type == "unsupported" and task.tenant_id == "demo"


def test_a_messenger_delivery_posted_here_is_kept_unassigned() -> None:
    queue = RecordingQueue()
    document = {"object": "page", "entry": []}
    assert handle(queue, post(body_of(document))).status == 200
    (task,) = tasks_of(queue)
    assert task.event.type == "unsupported" and task.tenant_id == "_unassigned"


def test_handshake() -> None:
    ok = {"hub.mode": "subscribe", "hub.verify_token": "ig-tok", "hub.challenge": "987654"}
    assert handle(RecordingQueue(), EdgeRequest(method="GET", query=ok)).body == "987654"
    bad = {**ok, "hub.verify_token": "tok"}
    assert handle(RecordingQueue(), EdgeRequest(method="GET", query=bad)).status == 403


def test_the_simulated_delivery_is_verified_and_parsed_by_the_connector() -> None:
    connector = instagram_connector(secrets(), TENANTS)
    delivery = sample.simulated_delivery("Oi", IGSID, secrets())
    connector.verify(delivery.body, delivery.headers)
    (event,) = connector.parse(delivery.body, delivery.headers)
    assert isinstance(event, MessageReceived)
    assert (event.channel, event.text, event.contact_id) == ("instagram", "Oi", IGSID)
    assert connector.tenant_for(event) == "demo"


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
        "channel": "instagram",
        "session_id": "s-1",
        "account_id": sample.DEV_ACCOUNT_ID,
        "recipient": IGSID,
        "message": message,
        "inbound_event_id": "aWdf_1",
        "reply_index": 0,
        "order_key": "000000000001",
        "created_at": now,
        "updated_at": now,
        "expire_at": now,
        **fields,
    }
    return OutboxRecord(**values)


BASE = "http://127.0.0.1:8089/graph/v23.0"


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATENDE_INSTAGRAM_TENANTS", json.dumps({sample.DEV_ACCOUNT_ID: "demo"}))
    monkeypatch.setenv("ATENDE_INSTAGRAM_API_BASE_URL", BASE)


def test_the_wiring_sends_direct_messages_from_the_account(settings_env: None) -> None:
    assert wiring.PLUGIN.text_limit == 1000
    assert wiring.PLUGIN.connector(deps()).channel == "instagram"
    call = wiring.PLUGIN.provider_api(deps()).prepare(record(TextMessage(body="Entregamos sim!")))
    assert call.url == f"{BASE}/{sample.DEV_ACCOUNT_ID}/messages"
    assert call.headers == {"Authorization": "Bearer EAAG-ig-token"}
    assert call.json == {
        "recipient": {"id": IGSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Entregamos sim!"},
    }


def test_a_reply_to_a_comment_is_published_on_the_comment(settings_env: None) -> None:
    api = wiring.PLUGIN.provider_api(deps())
    call = api.prepare(
        record(
            TextMessage(body="Te chamamos no direct!"),
            reply_context={"comment_id": "17865799348089039"},
        )
    )
    assert call.url == f"{BASE}/17865799348089039/replies"
    assert call.json == {"message": "Te chamamos no direct!"}
    assert call.headers == {"Authorization": "Bearer EAAG-ig-token"}
    # Graph answers a new comment's id.
    assert api.message_id(b'{"id": "17873440459141021"}') == "17873440459141021"


def test_a_comment_reply_is_text_only_and_needs_a_plain_comment_id(settings_env: None) -> None:
    api = wiring.PLUGIN.provider_api(deps())
    image = MediaMessage(media_type="image", link="https://cdn.example.com/a.png")
    with pytest.raises(InvalidOutboundMessageError):
        api.prepare(record(image, reply_context={"comment_id": "17865799348089039"}))
    with pytest.raises(InvalidOutboundMessageError):
        api.prepare(record(TextMessage(body="x"), reply_context={"comment_id": "1/../me"}))


def test_instagram_text_limits(settings_env: None) -> None:
    api = wiring.PLUGIN.provider_api(deps())
    assert api.prepare(record(TextMessage(body="a" * 1000)))
    with pytest.raises(InvalidOutboundMessageError):
        api.prepare(record(TextMessage(body="a" * 1001)))
    with pytest.raises(InvalidOutboundMessageError):
        api.prepare(record(TextMessage(body="ã" * 501)))


def test_a_missing_access_token_fails_closed(settings_env: None) -> None:
    values = {k: v for k, v in SECRETS.items() if k != "INSTAGRAM_ACCESS_TOKEN"}
    with pytest.raises(ConfigurationError, match="Instagram access token"):
        wiring.PLUGIN.provider_api(deps(values)).prepare(record(TextMessage(body="Oi")))


def test_the_sandbox_answer_gives_the_message_id_and_errors_are_classified(
    settings_env: None,
) -> None:
    api = wiring.PLUGIN.provider_api(deps())
    assert (
        api.message_id(json.dumps({"recipient_id": IGSID, "message_id": "m_sandbox.1"}).encode())
        == "m_sandbox.1"
    )
    error = api.classify(
        400, json.dumps({"error": {"code": 10, "error_subcode": 2534022}}).encode()
    )
    assert isinstance(error, ProviderPermanentError) and "Instagram" in str(error)


def test_an_account_linked_to_a_page_sends_from_the_page(
    settings_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "ATENDE_INSTAGRAM_PAGE_IDS", json.dumps({sample.DEV_ACCOUNT_ID: "134895793791914"})
    )
    call = wiring.PLUGIN.provider_api(deps()).prepare(record(TextMessage(body="Oi")))
    assert call.url == f"{BASE}/134895793791914/messages"
    assert call.json["recipient"] == {"id": IGSID}
