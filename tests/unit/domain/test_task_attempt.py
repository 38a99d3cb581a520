"""A worker knows its task's last attempt from the Cloud Tasks headers and the queue's
max_attempts; a direct call (no headers) is never the last."""

from datetime import UTC, datetime

import pytest

from atende.config import Settings
from atende.domain.dead_letter import dead_letter_id, replay_task_name
from atende.domain.task_attempt import attempt_from_headers

SETTINGS = Settings(inbound_max_attempts=50, outbound_max_attempts=3, _env_file=None)


def headers(retry: int, queue: str = "atende-outbound", **extra: str) -> dict[str, str]:
    return {
        "X-CloudTasks-QueueName": queue,
        "X-CloudTasks-TaskName": "out-abc",
        "X-CloudTasks-TaskRetryCount": str(retry),
        "X-CloudTasks-TaskExecutionCount": str(retry),
        "X-CloudTasks-TaskETA": "1796150400.25",
        **extra,
    }


@pytest.mark.parametrize(("retry", "last"), [(0, False), (1, False), (2, True), (7, True)])
def test_the_attempt_that_reaches_the_queues_max_attempts_is_the_last(retry, last):
    # max_attempts counts the first attempt: retry count 2 is the third and last of 3.
    attempt = attempt_from_headers(headers(retry), SETTINGS.max_attempts)
    assert attempt.number == retry + 1
    assert attempt.is_last is last


def test_each_queue_has_its_own_limit():
    assert not attempt_from_headers(headers(2, "atende-inbound"), SETTINGS.max_attempts).is_last
    assert attempt_from_headers(headers(49, "atende-inbound"), SETTINGS.max_attempts).is_last


@pytest.mark.parametrize(
    "sent",
    [
        {},  # a direct call
        headers(99, queue="someone-elses-queue"),
        {"X-CloudTasks-QueueName": "atende-outbound", "X-CloudTasks-TaskRetryCount": "99"},
    ],
)
def test_without_the_headers_or_for_an_unknown_queue_no_attempt_is_the_last(sent):
    assert not attempt_from_headers(sent, SETTINGS.max_attempts).is_last


def test_an_unlimited_queue_never_has_a_last_attempt():
    unlimited = Settings(outbound_max_attempts=-1, _env_file=None)
    assert not attempt_from_headers(headers(10_000), unlimited.max_attempts).is_last


def test_the_first_attempt_time_comes_from_our_enqueue_header_else_the_first_eta():
    ours = headers(5, **{"x-atende-enqueued-at": "2026-12-01T10:00:00.000+00:00"})
    assert attempt_from_headers(ours, SETTINGS.max_attempts).first_attempt_at == datetime(
        2026, 12, 1, 10, tzinfo=UTC
    )
    first = attempt_from_headers(headers(0), SETTINGS.max_attempts)
    assert first.first_attempt_at == datetime.fromtimestamp(1796150400.25, UTC)
    # A retry's ETA is its own schedule, not the first attempt's.
    assert attempt_from_headers(headers(3), SETTINGS.max_attempts).first_attempt_at is None


def test_replays_are_named_from_the_dead_task_and_recognised_by_that_name():
    name = replay_task_name("out-abc", 1)
    assert name == "out-abc-replay-1"
    replayed = attempt_from_headers(
        {**headers(0), "X-CloudTasks-TaskName": name}, SETTINGS.max_attempts
    )
    assert replayed.replay_generation == 1
    assert attempt_from_headers(headers(0), SETTINGS.max_attempts).replay_generation == 0
    # A redelivered last attempt maps to the same dead letter; another member does not.
    assert dead_letter_id("q", "t") == dead_letter_id("q", "t")
    assert dead_letter_id("q", "t", "m1") != dead_letter_id("q", "t", "m2")
