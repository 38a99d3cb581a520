"""The Discord connector through the webhook edge: what Discord sees, and what is enqueued."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.discord import sample
from atende.channels.discord.connector import DiscordConnector
from atende.errors import TransientError
from atende.ports import TaskRequest, WebhookResponse
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

DATA = Path(__file__).resolve().parents[3] / "data" / "discord"
PRIVATE, PUBLIC = sample.generate_key_pair()
_, OTHER_PUBLIC = sample.generate_key_pair()
SECRETS = {"DISCORD_PUBLIC_KEY": PUBLIC}
TENANTS = {
    application_id: "demo"
    for application_id in (
        "290926444748734465",
        "845027738276462632",
        "775799577604522054",
        "1234560123453231555",
    )
}
SIGNED_AT = 1_730_000_000
NOW = datetime.fromtimestamp(SIGNED_AT, tz=UTC) + timedelta(seconds=1)


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class RecordingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[TaskRequest] = []
        self.fail = fail

    async def enqueue(self, task: TaskRequest) -> bool:
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True


def edge(
    queue: RecordingQueue,
    secrets: dict[str, str] = SECRETS,
    tenants: dict[str, str] = TENANTS,
    now: datetime = NOW,
) -> WebhookEdge:
    source = EnvSecretSource(environ=secrets, dotenv_path=None)
    connector = DiscordConnector(source, tenants, FixedClock(now))
    return WebhookEdge(connector, queue, 1024 * 1024, FixedClock(now))


def post(body: bytes, timestamp: int = SIGNED_AT, key: str | None = PRIVATE) -> EdgeRequest:
    headers = sample.headers_for(body, key, timestamp) if key else {}
    return EdgeRequest(method="POST", headers=headers, body=body)


def fixture(name: str) -> bytes:
    return (DATA / f"{name}.json").read_bytes()


def handle(request: EdgeRequest, queue: RecordingQueue | None = None, **options: Any) -> Any:
    return asyncio.run(edge(queue or RecordingQueue(), **options).handle(request, "corr-1"))


def answer(response: WebhookResponse) -> dict[str, Any]:
    assert response.status == 200
    assert response.media_type == "application/json"
    document: dict[str, Any] = json.loads(response.body)
    return document


def events(queue: RecordingQueue) -> list[Any]:
    return [InboundTask.model_validate_json(task.body).event for task in queue.tasks]


def test_an_interaction_ping_is_answered_with_a_pong_and_enqueues_nothing() -> None:
    queue = RecordingQueue()
    response = handle(post(fixture("interaction_ping")), queue)
    assert answer(response) == {"type": 1}
    assert queue.tasks == []


def test_a_slash_command_is_deferred_with_a_thinking_state_and_enqueued_once() -> None:
    queue = RecordingQueue()
    response = handle(post(fixture("interaction_slash_command_guild")), queue)
    assert answer(response) == {"type": 5}
    assert [task.target for task in queue.tasks] == ["process_inbound"]
    (task,) = queue.tasks
    inbound = InboundTask.model_validate_json(task.body)
    assert inbound.tenant_id == "demo"
    assert inbound.event.event_id == "786008729715212338"
    assert inbound.event.reply_context["token"] == "A_UNIQUE_TOKEN"


@pytest.mark.parametrize(
    ("name", "callback"),
    [
        ("interaction_slash_command_dm", 5),
        ("interaction_user_command", 5),
        ("interaction_modal_submit", 5),
        ("interaction_modal_submit_labels", 5),
        ("interaction_button_click", 6),
        ("interaction_button_handoff", 6),
        ("interaction_string_select", 6),
    ],
)
def test_commands_and_modals_defer_a_message_components_defer_an_update(
    name: str, callback: int
) -> None:
    queue = RecordingQueue()
    assert answer(handle(post(fixture(name)), queue)) == {"type": callback}
    assert len(queue.tasks) == 1


def test_the_same_interaction_twice_gets_the_same_task_name() -> None:
    queue = RecordingQueue()
    handle(post(fixture("interaction_slash_command_guild")), queue)
    handle(post(fixture("interaction_slash_command_guild")), queue)
    assert queue.tasks[0].task_id == queue.tasks[1].task_id


def test_autocomplete_gets_no_suggestions_and_is_kept() -> None:
    queue = RecordingQueue()
    response = handle(post(fixture("interaction_autocomplete")), queue)
    assert answer(response) == {"type": 8, "data": {"choices": []}}
    assert [event.type for event in events(queue)] == ["unsupported"]


def test_an_unknown_interaction_type_is_kept_and_not_deferred() -> None:
    queue = RecordingQueue()
    response = handle(post(fixture("interaction_unknown_type")), queue)
    # Nothing will answer it: no "thinking…" that never ends.
    assert (response.status, response.body) == (204, "")
    assert [event.type for event in events(queue)] == ["unsupported"]


def test_a_command_for_an_unknown_application_is_not_deferred_nor_processed() -> None:
    queue = RecordingQueue()
    response = handle(post(fixture("interaction_slash_command_guild")), queue, tenants={})
    assert response.status == 204
    assert queue.tasks == []


@pytest.mark.parametrize(
    "name",
    ["interaction_button_click", "interaction_string_select", "interaction_modal_submit"],
)
def test_an_interaction_for_an_unknown_application_is_not_acknowledged_as_handled(
    name: str,
) -> None:
    # docs/channels.md: an application id not in ATENDE_DISCORD_TENANTS gets 204, no body.
    # A DEFERRED_UPDATE_MESSAGE (6) would "ACK an interaction and edit the original message
    # later" (Discord's interaction callback types): the contact would see it succeed and
    # nothing would ever follow.
    queue = RecordingQueue()
    response = handle(post(fixture(name)), queue, tenants={})
    assert (response.status, response.body) == (204, "")
    assert queue.tasks == []


def test_a_component_we_cannot_read_is_not_acknowledged_as_handled() -> None:
    document = json.loads(fixture("interaction_button_click"))
    document.pop("member", None)
    document.pop("user", None)
    queue = RecordingQueue()
    response = handle(post(json.dumps(document).encode()), queue)
    assert (response.status, response.body) == (204, "")
    assert [event.type for event in events(queue)] == ["unsupported"]


@pytest.mark.parametrize(
    "name",
    [
        "webhook_event_ping",
        "webhook_event_application_authorized",
        "webhook_event_entitlement_create",
    ],
)
def test_webhook_events_are_acknowledged_with_204_and_no_body(name: str) -> None:
    queue = RecordingQueue()
    response = handle(post(fixture(name)), queue)
    assert (response.status, response.body) == (204, "")
    expected = [] if name == "webhook_event_ping" else ["unsupported"]
    assert [event.type for event in events(queue)] == expected


@pytest.mark.parametrize(
    "request_",
    [
        post(fixture("interaction_ping"), key=None),
        post(fixture("interaction_ping"), key=sample.generate_key_pair()[0]),
        EdgeRequest(
            method="POST",
            headers={
                "x-signature-ed25519": "0" * 128,
                "x-signature-timestamp": str(SIGNED_AT),
            },
            body=fixture("interaction_ping"),
        ),
    ],
    ids=["unsigned", "other-key", "forged"],
)
def test_discords_bad_signature_probe_gets_401_and_nothing_is_enqueued(
    request_: EdgeRequest,
) -> None:
    queue = RecordingQueue()
    assert handle(request_, queue).status == 401
    assert queue.tasks == []


def test_a_replayed_interaction_is_refused() -> None:
    queue = RecordingQueue()
    request = post(fixture("interaction_slash_command_guild"))
    later = NOW + timedelta(minutes=10)
    assert handle(request, queue, now=later).status == 401
    assert queue.tasks == []


def test_a_missing_public_key_fails_closed() -> None:
    queue = RecordingQueue()
    response = handle(post(fixture("interaction_slash_command_guild")), queue, secrets={})
    assert response.status == 500
    assert queue.tasks == []


def test_a_signed_body_that_is_not_json_is_a_bad_request() -> None:
    assert handle(post(b"not json")).status == 400


def test_enqueue_failure_asks_discord_to_retry() -> None:
    response = handle(post(fixture("interaction_slash_command_guild")), RecordingQueue(fail=True))
    assert response.status == 503


def test_discord_has_no_get_handshake() -> None:
    response = handle(EdgeRequest(method="GET", query={"hub.challenge": "1"}))
    assert response.status == 405


def test_the_published_key_checks_a_real_signature_for_another_key_pair() -> None:
    queue = RecordingQueue()
    secrets = {"DISCORD_PUBLIC_KEY": OTHER_PUBLIC}
    assert handle(post(fixture("interaction_ping")), queue, secrets=secrets).status == 401
