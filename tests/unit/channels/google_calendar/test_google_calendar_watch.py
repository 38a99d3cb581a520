"""The watch job: one live channel per calendar, replaced before it expires, the old one
stopped only after the new one exists; plus one sync request per calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from gcal_support import (
    CALENDAR,
    NOW,
    SECRET,
    TENANT,
    FixedClock,
    MemoryState,
    ScriptedApi,
    secret_source,
)

from atende.channels.google_calendar.channel_ids import CalendarIndex, channel_id, channel_token
from atende.channels.google_calendar.settings import GoogleCalendarSettings
from atende.channels.google_calendar.verify import verify_notification
from atende.channels.google_calendar.watch import WatchRenewer, token_digest, watch_key
from atende.domain.events import CalendarSyncRequested
from atende.errors import (
    ConfigurationError,
    ProviderPermanentError,
    ProviderTransientError,
    TransientError,
)
from atende.tasks.contracts import InboundTask

HOOK = "https://functions.example/google_calendar_webhook"
DAY_MS = 86_400_000
NOW_MS = int(NOW.timestamp() * 1000)


class Queue:
    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[Any] = []
        self.fail = fail

    def enqueue(self, task: Any) -> bool:
        if self.fail:
            raise TransientError("queue down")
        self.tasks.append(task)
        return True


def settings(calendars: dict[str, str] | None = None, **extra: Any) -> GoogleCalendarSettings:
    return GoogleCalendarSettings(
        calendars=calendars if calendars is not None else {CALENDAR: TENANT},
        webhook_url=HOOK,
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


def job(
    api: ScriptedApi,
    state: MemoryState,
    queue: Queue | None = None,
    config: GoogleCalendarSettings | None = None,
    secret: str | None = SECRET,
) -> WatchRenewer:
    queue = queue or Queue()
    return WatchRenewer(
        api,  # type: ignore[arg-type]
        config or settings(),
        secret_source(secret),
        lambda: state,
        lambda: queue,
        FixedClock(),
    )


def stored_channel(generation: int, expires_in_ms: int, tenant: str = TENANT) -> dict[str, Any]:
    made = channel_id(tenant, CALENDAR, generation)
    return {
        "id": made,
        "resourceId": "res-old",
        "expiration": NOW_MS + expires_in_ms,
        "token_digest": token_digest(channel_token(SECRET, made)),
    }


def test_a_calendar_without_a_channel_gets_one_google_will_deliver_to_us(
    state: MemoryState,
) -> None:
    api = ScriptedApi()
    report = job(api, state)()

    [(verb, call)] = api.calls
    assert verb == "watch" and call["calendar_id"] == CALENDAR
    assert call["type"] == "web_hook" and call["address"] == HOOK
    assert call["params"] == {"ttl": "604800"}
    assert call["id"] == channel_id(TENANT, CALENDAR, int(NOW.timestamp()))
    # Google echoes the token on every notice: the webhook accepts exactly these.
    headers = {"X-Goog-Channel-ID": call["id"], "X-Goog-Channel-Token": call["token"]}
    verify_notification(headers, SECRET, CalendarIndex({CALENDAR: TENANT}))
    assert state.get(watch_key(CALENDAR)) == {
        "id": call["id"],
        "resourceId": f"res-{CALENDAR}",
        "expiration": NOW_MS + 604_800_000,
        "token_digest": token_digest(call["token"]),
        "created_at": NOW.isoformat(),
    }
    assert report == {
        "calendars": 1,
        "created": 1,
        "renewed": 0,
        "kept": 0,
        "stopped": 0,
        "failed": 0,
        "syncs_requested": 1,
    }


def test_a_channel_far_from_expiring_is_kept(state: MemoryState) -> None:
    state.values[watch_key(CALENDAR)] = stored_channel(1, expires_in_ms=3 * DAY_MS)
    api = ScriptedApi()
    report = job(api, state)()
    assert api.calls == [] and report["kept"] == 1 and report["created"] == 0


def test_a_channel_expiring_within_the_margin_is_replaced_then_stopped(
    state: MemoryState,
) -> None:
    old = stored_channel(1, expires_in_ms=DAY_MS - 1)
    state.values[watch_key(CALENDAR)] = old
    api = ScriptedApi()
    report = job(api, state)()
    assert [verb for verb, _ in api.calls] == ["watch", "stop"]
    assert api.calls[1][1] == {"id": old["id"], "resourceId": "res-old"}
    assert state.get(watch_key(CALENDAR))["id"] == api.calls[0][1]["id"] != old["id"]  # type: ignore[index]
    assert (report["renewed"], report["stopped"], report["created"]) == (1, 1, 0)


def test_the_old_channel_stays_when_no_new_one_could_be_made(state: MemoryState) -> None:
    old = stored_channel(1, expires_in_ms=60_000)
    state.values[watch_key(CALENDAR)] = old
    api = ScriptedApi()
    api.watch_answers = [ProviderTransientError("503", code="google_503")]
    with pytest.raises(ProviderTransientError):
        job(api, state)()
    assert [verb for verb, _ in api.calls] == ["watch"]
    assert state.get(watch_key(CALENDAR)) == old


def test_a_failed_stop_leaves_the_new_channel_in_place(state: MemoryState) -> None:
    state.values[watch_key(CALENDAR)] = stored_channel(1, expires_in_ms=0)
    api = ScriptedApi()
    api.stop_answers = [ProviderPermanentError("403", code="google_403")]
    report = job(api, state)()
    assert report["renewed"] == 1 and report["stopped"] == 0 and report["failed"] == 0
    assert state.get(watch_key(CALENDAR))["id"] == api.calls[0][1]["id"]  # type: ignore[index]


@pytest.mark.parametrize(
    "old",
    [
        pytest.param(stored_channel(1, 3 * DAY_MS, tenant="antes"), id="tenant-changed"),
        pytest.param(
            {**stored_channel(1, 3 * DAY_MS), "token_digest": "0" * 16}, id="secret-rotated"
        ),
        pytest.param({"id": channel_id(TENANT, CALENDAR, 1)}, id="no-expiration"),
    ],
)
def test_a_channel_the_webhook_would_refuse_is_replaced(
    state: MemoryState, old: dict[str, Any]
) -> None:
    state.values[watch_key(CALENDAR)] = old
    api = ScriptedApi()
    report = job(api, state)()
    assert report["renewed"] == 1 and api.calls[0][0] == "watch"


def test_a_renewal_in_the_same_second_still_gets_a_new_id(state: MemoryState) -> None:
    state.values[watch_key(CALENDAR)] = stored_channel(int(NOW.timestamp()), expires_in_ms=0)
    api = ScriptedApi()
    job(api, state)()
    assert api.calls[0][1]["id"] == channel_id(TENANT, CALENDAR, int(NOW.timestamp()) + 1)


def test_the_channel_of_a_calendar_no_longer_configured_is_stopped(state: MemoryState) -> None:
    gone = "antiga@loja.example"
    state.values[watch_key(gone)] = {"id": "atende-x-0000000000000000-1", "resourceId": "r"}
    state.values[watch_key(CALENDAR)] = stored_channel(1, expires_in_ms=3 * DAY_MS)
    api = ScriptedApi()
    report = job(api, state)()
    assert api.calls == [("stop", {"id": "atende-x-0000000000000000-1", "resourceId": "r"})]
    assert state.get(watch_key(gone)) == {} and report["stopped"] == 1
    job(ScriptedApi(), state)()  # nothing left to stop
    assert state.get(watch_key(gone)) == {}


def test_one_failing_calendar_does_not_stop_the_others(state: MemoryState) -> None:
    config = settings({"quebrada@loja.example": TENANT, CALENDAR: TENANT})
    api = ScriptedApi()
    api.watch_answers = [ProviderPermanentError("404", code="google_404_notFound")]
    report = job(api, state, config=config)()
    assert report["failed"] == 1 and report["created"] == 1
    assert state.get(watch_key(CALENDAR)) is not None
    assert state.get(watch_key("quebrada@loja.example")) is None


def test_a_transient_failure_asks_the_scheduler_to_retry_after_the_others(
    state: MemoryState,
) -> None:
    config = settings({"lenta@loja.example": TENANT, CALENDAR: TENANT})
    api = ScriptedApi()
    api.watch_answers = [ProviderTransientError("429", code="google_429")]
    with pytest.raises(ProviderTransientError):
        job(api, state, config=config)()
    assert state.get(watch_key(CALENDAR)) is not None


def test_every_run_requests_one_sync_per_calendar(state: MemoryState) -> None:
    queue = Queue()
    state.values[watch_key(CALENDAR)] = stored_channel(1, expires_in_ms=3 * DAY_MS)
    job(ScriptedApi(), state, queue)()
    [task] = queue.tasks
    body = InboundTask.model_validate_json(task.body)
    assert body.tenant_id == TENANT and isinstance(body.event, CalendarSyncRequested)
    assert body.event.calendar_id == CALENDAR and task.target == "process_inbound"
    later = Queue()
    clock_job = job(ScriptedApi(), state, later)
    clock_job._clock.current = NOW + timedelta(hours=6)  # type: ignore[attr-defined]
    clock_job()
    assert later.tasks[0].task_id != task.task_id


def test_a_queue_failure_is_retried(state: MemoryState) -> None:
    state.values[watch_key(CALENDAR)] = stored_channel(1, expires_in_ms=3 * DAY_MS)
    with pytest.raises(ProviderTransientError):
        job(ScriptedApi(), state, Queue(fail=True))()


def test_without_the_channel_secret_or_the_webhook_url_nothing_is_created(
    state: MemoryState,
) -> None:
    api = ScriptedApi()
    with pytest.raises(ConfigurationError):
        job(api, state, secret=None)()
    config = GoogleCalendarSettings(calendars={CALENDAR: TENANT}, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError):
        job(api, state, config=config)()
    assert api.calls == [] and state.values == {}


def test_logs_name_calendars_by_a_hash_and_never_a_token(
    state: MemoryState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    config = settings({"quebrada@loja.example": TENANT, CALENDAR: TENANT})
    api = ScriptedApi()
    api.watch_answers = [ProviderPermanentError("404", code="google_404_notFound")]
    job(api, state, config=config)()
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'json_fields', '')}" for r in caplog.records)
    assert "google_404_notFound" in logged and "watch_created" in logged
    token = api.calls[1][1]["token"]
    for private in ("quebrada@loja.example", CALENDAR, token, SECRET):
        assert private not in logged
