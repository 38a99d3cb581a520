"""Issue 12's figures: percentiles, the idle path's verdict and measurement, and the
session-document writes per message."""

import json
import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from atende.domain import keys
from bench import idle_path, whole_path
from bench.idle_path import IdlePathResult
from bench.stats import percentile


def test_percentiles_interpolate_between_the_nearest_samples():
    samples = [4.0, 1.0, 3.0, 2.0]
    assert percentile(samples, 0.5) == 2.5  # the mean of the middle two, not one of them
    assert percentile(samples, 0.0) == 1.0
    assert percentile(samples, 1.0) == 4.0
    assert percentile(list(range(1, 21)), 0.95) == pytest.approx(19.05)
    assert percentile([7.0], 0.99) == 7.0


@pytest.mark.parametrize("q", [-0.1, 1.5])
def test_a_percentile_outside_zero_to_one_is_an_error(q):
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], q)


def test_a_percentile_of_nothing_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 0.5)


def _idle(latencies, *, hold=1.0, messages=None, settled=True):
    return IdlePathResult(
        hold=hold,
        latencies=latencies,
        messages=len(latencies) if messages is None else messages,
        settled=settled,
    )


def test_the_idle_path_passes_when_median_and_p95_are_within_the_hold_plus_300_ms():
    within = _idle([1.1] * 18 + [1.25, 1.29])
    [figure] = idle_path.figures(within)
    assert figure.passed
    assert figure.name == "3. idle path 200 -> reply"
    assert "hold 1.00 s" in figure.value and "= 1.30 s" in figure.target
    assert "beyond the hold: median 100 ms" in figure.detail


def test_a_slow_tail_fails_the_idle_path_even_with_a_good_median():
    tail = _idle([1.1] * 17 + [1.5, 1.6, 1.7])
    assert tail.percentile(0.5) <= tail.target < tail.percentile(0.95)
    assert not tail.passed


def test_an_unanswered_message_or_a_busy_stack_fails_the_idle_path():
    assert not _idle([1.1] * 19, messages=20).passed
    busy = _idle([1.1] * 20, settled=False)
    assert not busy.passed
    assert "not an idle stack" in idle_path.figures(busy)[0].detail
    nothing = _idle([], messages=20)
    assert math.isnan(nothing.percentile(0.5)) and not nothing.passed


def test_the_hold_is_the_functions_environment_value_else_the_settings_default():
    assert idle_path.answer_hold({"ATENDE_ANSWER_HOLD_SECONDS": "0.25"}) == 0.25
    assert idle_path.answer_hold({}) == 1.0


def test_arrival_is_the_sandboxs_time_of_the_first_request_carrying_the_outbox_id():
    received = [
        {"time": 1.0, "json": {"biz_opaque_callback_data": "other"}},
        {"time": 2.0, "json": None},
        {"time": 3.0, "json": {"biz_opaque_callback_data": "mine"}},
        {"time": 4.0, "json": {"biz_opaque_callback_data": "mine"}},
    ]
    assert idle_path.arrival_of(received, "mine") == 3.0
    assert idle_path.arrival_of(received, "missing") is None


def test_work_in_flight_is_what_runs_or_is_due_soon_not_a_timer_half_an_hour_away():
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def task(seconds):
        return SimpleNamespace(schedule_time=now + timedelta(seconds=seconds))

    running, held_answer, retry = task(-2), task(1), task(16)
    idle_close = task(1800)
    assert idle_path.in_flight([running, held_answer, retry, idle_close], now) == 3
    assert idle_path.in_flight([idle_close], now) == 0
    assert idle_path.in_flight([SimpleNamespace(schedule_time=None)], now) == 1


class _Stack:
    """The webhook, the sandbox and the queues, faked: each post's reply is recorded by the
    sandbox `delay` seconds after the webhook's 200."""

    def __init__(self, delay):
        self.delay = delay
        self.clock = 1000.0
        self.received = []
        self.cleared = 0
        self.waits = 0

    # the webhook (a requests.Session)
    def __call__(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def post(self, url, data, headers, timeout):
        message = json.loads(data)["entry"][0]["changes"][0]["value"]["messages"][0]
        session = keys.session_id("bench", "whatsapp", message["from"])
        outbox_id = keys.outbox_id("bench", session, message["id"], 0)
        self.clock += 0.01
        self.received.append(
            {"time": self.clock + self.delay, "json": {"biz_opaque_callback_data": outbox_id}}
        )
        return SimpleNamespace(status_code=200, text="")

    # the sandbox
    def requests(self):
        return [record for record in self.received if record["time"] <= self.clock]

    def clear(self):
        self.cleared += 1

    # the Tasks emulator
    def queue_path(self, queue):
        return queue

    def list_tasks(self, queue_path):
        self.waits += 1
        return []

    # the clock
    def time(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += max(seconds, 0.001)

    def monotonic(self):
        return self.clock


def test_the_idle_path_times_each_reply_from_the_webhooks_200_one_message_at_a_time(
    monkeypatch,
):
    stack = _Stack(delay=1.2)
    monkeypatch.setattr(idle_path.requests, "Session", stack)
    monkeypatch.setattr(idle_path, "time", stack)
    result = idle_path.run(
        "http://webhook/", stack, stack, ["inbound", "outbound"], tenant="bench", hold=1.0
    )
    assert result.latencies == [pytest.approx(1.2)] * idle_path.MESSAGES
    assert result.settled and not result.unanswered
    assert stack.cleared == 1  # the load's replies are not read again at every poll
    assert stack.waits == 2 * (idle_path.MESSAGES + 1)  # idle before the first and each


def test_the_idle_path_gives_up_on_a_stack_that_does_not_answer(monkeypatch):
    stack = _Stack(delay=math.inf)
    monkeypatch.setattr(idle_path.requests, "Session", stack)
    monkeypatch.setattr(idle_path, "time", stack)
    result = idle_path.run(
        "http://webhook/", stack, stack, ["inbound"], tenant="bench", hold=1.0, timeout=2.0
    )
    assert result.latencies == [] and len(result.unanswered) == idle_path.GIVE_UP_AFTER
    assert not result.passed


def _whole_path(firestore_ops, messages=100):
    return whole_path.WholePathResult(
        messages=messages, seconds=10.0, latencies=[1.0, 2.0], firestore_ops=firestore_ops,
        answered=messages, replies_sent=messages, duplicated_replies=0,
        outbox_records=messages, outbox_not_sent=0, transaction_rate=100.0,
    )  # fmt: skip


def test_session_document_writes_per_message_count_only_the_session_documents():
    ops = {"reads": 300, "writes": 500, "writes.sessions": 200, "writes.sessions/*/inbox": 100,
           "writes.outbox": 200, "reads.sessions": 300}  # fmt: skip
    result = _whole_path(ops)
    assert result.session_writes_per_message == 2.0
    figure = next(f for f in whole_path.figures(result) if "session-document" in f.name)
    assert figure.passed and figure.value.startswith("2.0 (200 writes to sessions/)")
    assert "sessions/*/inbox 1.0" in figure.detail
    assert whole_path.summary(result)["firestore_by_collection"]["sessions"] == {
        "reads": 300,
        "writes": 200,
    }
    over = _whole_path({**ops, "writes.sessions": 201})
    assert not next(f for f in whole_path.figures(over) if "session-document" in f.name).passed


def test_a_stack_whose_queues_never_drain_is_reported_as_not_idle(monkeypatch):
    stack = _Stack(delay=1.1)
    busy = SimpleNamespace(schedule_time=datetime.now(UTC) - timedelta(seconds=1))
    monkeypatch.setattr(stack, "list_tasks", lambda queue_path: [busy])
    monkeypatch.setattr(idle_path.requests, "Session", stack)
    monkeypatch.setattr(idle_path, "time", stack)
    result = idle_path.run(
        "http://webhook/", stack, stack, ["inbound"], tenant="bench", hold=1.0, timeout=1.0
    )
    assert len(result.latencies) == idle_path.MESSAGES and not result.settled
    assert not result.passed
