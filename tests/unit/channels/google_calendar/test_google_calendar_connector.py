"""The Google Calendar webhook through the real edge: what Google gets back, what is queued."""

from __future__ import annotations

import asyncio
from typing import Any

from gcal_support import CALENDAR, CALENDARS, SECRET, TENANT, FixedClock, fixture, secret_source

from atende.channels.google_calendar import sample
from atende.channels.google_calendar.channel_ids import channel_id, channel_token
from atende.channels.google_calendar.connector import GoogleCalendarConnector
from atende.domain import keys
from atende.domain.events import CalendarSyncRequested
from atende.errors import TransientError
from atende.ports import WebhookResponse
from atende.tasks.contracts import InboundTask
from atende.webhook.edge import EdgeRequest, WebhookEdge

CHANNEL = channel_id(TENANT, CALENDAR, 1_764_082_800)


class RecordingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[Any] = []
        self.fail = fail

    async def enqueue(self, task: Any) -> bool:
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True


def deliver(
    headers: dict[str, str],
    queue: RecordingQueue | None = None,
    secret: str | None = SECRET,
    calendars: dict[str, str] = CALENDARS,
    method: str = "POST",
) -> WebhookResponse:
    connector = GoogleCalendarConnector(secret_source(secret), calendars, FixedClock())
    edge = WebhookEdge(connector, queue or RecordingQueue(), 1024 * 1024, FixedClock())
    return asyncio.run(edge.handle(EdgeRequest(method=method, headers=headers, body=b""), "c"))


def notice(name: str = "notification_exists.json", **extra: str) -> dict[str, str]:
    headers: dict[str, str] = fixture(name)
    headers["X-Goog-Channel-ID"] = CHANNEL
    headers["X-Goog-Channel-Token"] = channel_token(SECRET, CHANNEL)
    headers.update(extra)
    return headers


def test_the_sync_message_is_acknowledged_with_nothing_enqueued() -> None:
    queue = RecordingQueue()
    response = deliver(notice("notification_sync.json"), queue)
    assert (response.status, response.body) == (200, "")
    assert queue.tasks == []


def test_a_change_notice_enqueues_one_sync_request_for_the_calendars_tenant() -> None:
    queue = RecordingQueue()
    response = deliver(notice(), queue)
    assert (response.status, response.body) == (200, "")
    [task] = queue.tasks
    body = InboundTask.model_validate_json(task.body)
    assert body.tenant_id == TENANT
    assert isinstance(body.event, CalendarSyncRequested)
    assert body.event.calendar_id == CALENDAR and body.event.watch_id == CHANNEL
    assert task.task_id == keys.inbound_task_id("google_calendar", f"{CHANNEL}:10")
    assert "X-Goog-Channel-Token" not in task.body.decode() and SECRET not in task.body.decode()


def test_google_retrying_a_notice_names_the_same_task() -> None:
    queue = RecordingQueue()
    deliver(notice(), queue)
    deliver(notice(), queue)
    assert queue.tasks[0].task_id == queue.tasks[1].task_id


def test_a_wrong_token_is_refused_and_nothing_is_enqueued() -> None:
    queue = RecordingQueue()
    forged = notice(**{"X-Goog-Channel-Token": channel_token("guess", CHANNEL)})
    assert deliver(forged, queue).status == 401
    assert queue.tasks == []


def test_a_foreign_channel_is_refused() -> None:
    queue = RecordingQueue()
    assert deliver(fixture("notification_exists.json"), queue).status == 401
    assert queue.tasks == []


def test_a_channel_of_a_calendar_removed_from_configuration_is_refused() -> None:
    queue = RecordingQueue()
    assert deliver(notice(), queue, calendars={"outra@loja.example": "outra"}).status == 401
    assert queue.tasks == []


def test_a_missing_channel_secret_fails_closed() -> None:
    queue = RecordingQueue()
    assert deliver(notice(), queue, secret=None).status == 500
    assert queue.tasks == []


def test_malformed_headers_are_a_bad_request() -> None:
    queue = RecordingQueue()
    assert deliver(notice(**{"X-Goog-Message-Number": "dez"}), queue).status == 400
    assert queue.tasks == []


def test_an_unknown_state_is_acknowledged_and_kept_for_the_audit() -> None:
    queue = RecordingQueue()
    assert deliver(notice(**{"X-Goog-Resource-State": "trash"}), queue).status == 200
    [task] = queue.tasks
    event = InboundTask.model_validate_json(task.body).event
    assert (
        event.type == "unsupported"
        and InboundTask.model_validate_json(task.body).tenant_id == TENANT
    )


def test_a_queue_failure_asks_google_to_retry() -> None:
    assert deliver(notice(), RecordingQueue(fail=True)).status == 503


def test_there_is_no_get_handshake() -> None:
    assert deliver({}, method="GET").status == 403


def test_the_simulated_delivery_passes_the_real_checks(monkeypatch: Any) -> None:
    monkeypatch.setenv("ATENDE_GOOGLE_CALENDAR_CALENDARS", f'{{"{CALENDAR}": "{TENANT}"}}')
    delivery = sample.simulated_delivery("Consulta", "5511999990000", secret_source())
    assert delivery.body == b"" and delivery.method == "POST"
    queue = RecordingQueue()
    assert deliver(delivery.headers, queue).status == 200
    [task] = queue.tasks
    assert InboundTask.model_validate_json(task.body).event.type == "calendar_sync_requested"
