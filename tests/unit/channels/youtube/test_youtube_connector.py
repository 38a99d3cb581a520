"""The YouTube connector behind the real webhook edge, with a recording queue: what the hub
and an attacker would see."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atende.adapters.clock import SystemClock
from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.youtube import sample
from atende.channels.youtube.connector import YouTubeConnector
from atende.domain.events import UnsupportedEvent, VideoPublished
from atende.errors import TransientError
from atende.ports import TaskRequest, WebhookResponse
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

DATA = Path(__file__).resolve().parents[3] / "data" / "youtube"
SECRET = "hub-secret-for-tests"
SECRETS = {"YOUTUBE_HUB_SECRET": SECRET}
CHANNEL = sample.DEV_CHANNEL_ID
TOPICS = {CHANNEL: "demo"}
TOPIC = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={CHANNEL}"


class RecordingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[TaskRequest] = []
        self.fail = fail

    async def enqueue(self, task: TaskRequest) -> bool:
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True

    def events(self) -> list[object]:
        return [InboundTask.model_validate_json(t.body).event for t in self.tasks]

    def tenants(self) -> list[str]:
        return [InboundTask.model_validate_json(t.body).tenant_id for t in self.tasks]


def secret_source(secrets: dict[str, str] = SECRETS) -> EnvSecretSource:
    return EnvSecretSource(environ=secrets, dotenv_path=None)


def edge(queue: RecordingQueue, secrets: dict[str, str] = SECRETS) -> WebhookEdge:
    connector = YouTubeConnector(secret_source(secrets), TOPICS)
    return WebhookEdge(connector, queue, 1024 * 1024, SystemClock())


def load(name: str) -> bytes:
    return (DATA / f"{name}.xml").read_bytes()


def post(body: bytes, secret: str | None = SECRET, **headers: str) -> EdgeRequest:
    signed = {"x-hub-signature": sample.signature_for(body, secret)} if secret else {}
    return EdgeRequest(
        method="POST",
        headers={"content-type": "application/atom+xml", **signed, **headers},
        body=body,
    )


def get(**query: str) -> EdgeRequest:
    return EdgeRequest(method="GET", query=query)


def handle(
    queue: RecordingQueue, request: EdgeRequest, **kwargs: dict[str, str]
) -> WebhookResponse:
    return asyncio.run(edge(queue, **kwargs).handle(request, "corr-yt"))


# -- notifications --------------------------------------------------------------------------


def test_a_signed_upload_becomes_one_task_for_the_channels_tenant() -> None:
    queue = RecordingQueue()
    response = handle(queue, post(load("notification_new_video")))
    assert response.status == 200
    [event] = queue.events()
    assert isinstance(event, VideoPublished)
    assert (event.video_id, event.updated, event.account_id) == ("dQ9mN2vR4sT", False, CHANNEL)
    assert queue.tenants() == ["demo"]
    assert queue.tasks[0].target == "process_inbound"
    assert queue.tasks[0].correlation_id == "corr-yt"


def test_an_updated_video_is_enqueued_as_an_update() -> None:
    queue = RecordingQueue()
    assert handle(queue, post(load("notification_updated_video"))).status == 200
    [event] = queue.events()
    assert isinstance(event, VideoPublished) and event.updated is True


def test_the_hub_redelivering_a_notification_yields_the_same_task_name() -> None:
    queue = RecordingQueue()
    handle(queue, post(load("notification_new_video")))
    handle(queue, post(load("notification_new_video")))
    assert len(queue.tasks) == 2 and queue.tasks[0].task_id == queue.tasks[1].task_id


def test_a_sha256_signature_is_accepted_too() -> None:
    body = load("notification_new_video")
    request = post(
        body, secret=None, **{"x-hub-signature": sample.signature_for(body, SECRET, "sha256")}
    )
    queue = RecordingQueue()
    assert handle(queue, request).status == 200 and len(queue.tasks) == 1


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(post(load("notification_new_video"), secret=None), id="missing"),
        pytest.param(post(load("notification_new_video"), secret="not-our-secret"), id="wrong"),
        pytest.param(
            post(
                load("notification_new_video"),
                secret=None,
                **{"x-hub-signature": "sha1=" + "0" * 40},
            ),
            id="forged",
        ),
        pytest.param(
            EdgeRequest(
                method="POST",
                headers={
                    "x-hub-signature": sample.signature_for(load("notification_new_video"), SECRET)
                },
                body=load("notification_two_videos"),
            ),
            id="signature-of-another-body",
        ),
    ],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_enqueued(request_: EdgeRequest) -> None:
    queue = RecordingQueue()
    assert handle(queue, request_).status == 401
    assert queue.tasks == []


def test_a_missing_hub_secret_refuses_every_notification() -> None:
    queue = RecordingQueue()
    response = handle(queue, post(load("notification_new_video")), secrets={})
    assert response.status == 500 and queue.tasks == []


@pytest.mark.parametrize("name", ["truncated", "entity_expansion_bomb", "external_entity"])
def test_signed_but_malformed_or_unsafe_xml_is_a_bad_request(name: str) -> None:
    queue = RecordingQueue()
    assert handle(queue, post(load(name))).status == 400
    assert queue.tasks == []


def test_a_deleted_video_is_kept_and_audited_under_the_channels_tenant() -> None:
    queue = RecordingQueue()
    assert handle(queue, post(load("notification_deleted_video"))).status == 200
    [event] = queue.events()
    assert isinstance(event, UnsupportedEvent) and event.reason == "video_deleted"
    assert queue.tenants() == ["demo"]


def test_an_unknown_document_is_kept_under_the_unassigned_tenant() -> None:
    queue = RecordingQueue()
    assert handle(queue, post(load("not_an_atom_feed"))).status == 200
    [event] = queue.events()
    assert isinstance(event, UnsupportedEvent)
    assert queue.tenants() == ["_unassigned"]


def test_a_video_of_a_channel_we_do_not_follow_is_acknowledged_not_processed() -> None:
    now = datetime.now(UTC)
    body = sample.video_notification(
        video_id="dQ9mN2vR4sT",
        title="x",
        published=now,
        updated=now,
        channel_id="UC_x5XG1OV2P6uZZ5FSM9Ttw",
    )
    queue = RecordingQueue()
    assert handle(queue, post(body)).status == 200
    assert queue.tasks == []


def test_the_hub_is_asked_to_retry_when_enqueueing_fails() -> None:
    response = handle(RecordingQueue(fail=True), post(load("notification_new_video")))
    assert response.status == 503


def test_the_simulated_delivery_is_accepted_with_the_text_as_the_video_title() -> None:
    delivery = sample.simulated_delivery("Nosso novo vídeo <3", "ignored", secret_source())
    request = EdgeRequest(method=delivery.method, headers=delivery.headers, body=delivery.body)
    queue = RecordingQueue()
    assert handle(queue, request).status == 200
    [event] = queue.events()
    assert isinstance(event, VideoPublished)
    assert event.title == "Nosso novo vídeo <3" and event.updated is False
    assert queue.tenants() == ["demo"]


def test_signed_headers_fail_closed_without_the_secret() -> None:
    from atende.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        sample.signed_headers(b"<feed/>", secret_source({}))


def test_the_wiring_builds_the_connector_from_the_topics_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from atende.channels.plugin import ChannelDeps
    from atende.channels.youtube import wiring
    from atende.config import Settings

    monkeypatch.setenv("ATENDE_YOUTUBE_TOPICS", f'{{"{CHANNEL}": "acme"}}')
    deps = ChannelDeps(
        settings=Settings(_env_file=None),
        secrets=secret_source(),
        clock=SystemClock(),
        state=lambda: pytest.fail("the webhook needs no channel state"),
        tasks=lambda: pytest.fail("the webhook enqueues through the edge"),
    )
    connector = wiring.PLUGIN.connector(deps)
    assert connector.channel == "youtube"
    [event] = connector.parse(load("notification_new_video"), {})
    assert connector.tenant_for(event) == "acme"
    assert wiring.PLUGIN.provider_api is None and wiring.PLUGIN.text_limit is None


# -- the hub's GET requests -----------------------------------------------------------------


def test_the_hubs_subscription_check_is_answered_with_the_challenge_as_plain_text() -> None:
    queue = RecordingQueue()
    response = handle(
        queue,
        get(**{"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "8093622951834",
               "hub.lease_seconds": "432000"}),
    )  # fmt: skip
    assert (response.status, response.body, response.media_type) == (
        200,
        "8093622951834",
        "text/plain",
    )
    assert queue.tasks == []


UNKNOWN_TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id=UCother"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"hub.mode": "subscribe", "hub.topic": UNKNOWN_TOPIC}, id="unknown-topic"),
        pytest.param({"hub.mode": "publish", "hub.topic": TOPIC}, id="bad-mode"),
        pytest.param({"hub.mode": "unsubscribe", "hub.topic": TOPIC}, id="unsubscribe-followed"),
        pytest.param({"hub.topic": TOPIC}, id="no-mode"),
    ],
)
def test_any_other_check_is_refused_without_echoing_the_challenge(query: dict[str, str]) -> None:
    response = handle(RecordingQueue(), get(**query, **{"hub.challenge": "Ch4llenge"}))
    assert response.status == 403
    assert "Ch4llenge" not in response.body


def test_a_check_without_a_challenge_is_refused() -> None:
    response = handle(RecordingQueue(), get(**{"hub.mode": "subscribe", "hub.topic": TOPIC}))
    assert response.status == 403


def test_the_handshake_does_not_need_the_secret() -> None:
    query = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "42"}
    assert handle(RecordingQueue(), get(**query), secrets={}).body == "42"


def test_a_denied_subscription_is_acknowledged_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    queue = RecordingQueue()
    with caplog.at_level("WARNING"):
        response = handle(
            queue, get(**{"hub.mode": "denied", "hub.topic": TOPIC, "hub.reason": "spam"})
        )
    assert response.status == 200 and response.body == ""
    assert queue.tasks == []
    [record] = [r for r in caplog.records if "denied" in r.getMessage()]
    # Other fields (channel, correlation id) may come from the logging context.
    fields = getattr(record, "json_fields", None) or {}
    assert {key: fields.get(key) for key in ("outcome", "account_id")} == {
        "outcome": "subscription_denied",
        "account_id": CHANNEL,
    }
