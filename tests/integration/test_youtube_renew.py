"""The `youtube_renew` job against a small local hub on 127.0.0.1: the form it posts, the
hub's answers, the leases it stores and when it renews them."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.plugin import ChannelDeps
from atende.channels.youtube import wiring
from atende.channels.youtube.hub import WebSubHub
from atende.channels.youtube.renew import SubscriptionRenewal, lease_key
from atende.channels.youtube.settings import YouTubeSettings
from atende.config import Settings
from atende.errors import ConfigurationError, TransientError

CHANNEL_A = "UCdv3AtendeDevChannel01A"
CHANNEL_B = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
CALLBACK = "https://us-central1-atende.cloudfunctions.net/youtube_webhook"
SECRET = "hub-secret-for-tests"
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = 432_000


def topic(channel: str) -> str:
    return f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={channel}"


@dataclass
class HubRecord:
    path: str
    content_type: str
    form: dict[str, list[str]]


@dataclass
class FakeHub:
    """Stands in for pubsubhubbub.appspot.com: records each request and answers 202, or a
    scripted status (or a stall) per topic."""

    url: str = ""
    requests: list[HubRecord] = field(default_factory=list)
    status_by_topic: dict[str, int] = field(default_factory=dict)
    stall_seconds: float = 0.0

    def topics(self) -> list[str]:
        return [r.form["hub.topic"][0] for r in self.requests]


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length).decode("utf-8")
            form = parse_qs(raw, keep_blank_values=True, strict_parsing=True)
            fake.requests.append(HubRecord(self.path, self.headers.get("content-type", ""), form))
            if fake.stall_seconds:
                time.sleep(fake.stall_seconds)
            status = fake.status_by_topic.get(form["hub.topic"][0], 202)
            body = b"" if status == 202 else b"Invalid request"
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/subscribe"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class MemoryState:
    """An in-memory ChannelStateStore."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        doc = self.docs.get(key)
        return copy.deepcopy(doc) if doc is not None else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.docs[key] = copy.deepcopy(value)

    def with_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {k: copy.deepcopy(v) for k, v in self.docs.items() if k.startswith(prefix)}


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass
class Job:
    run: SubscriptionRenewal
    state: MemoryState
    clock: Clock
    secrets: dict[str, str]


def make_job(
    fake: FakeHub,
    *,
    channels: tuple[str, ...] = (CHANNEL_A, CHANNEL_B),
    callback: str | None = CALLBACK,
    secrets: dict[str, str] | None = None,
    timeout: float = 5.0,
    state: MemoryState | None = None,
    clock: Clock | None = None,
) -> Job:
    settings = YouTubeSettings(
        _env_file=None,
        topics={channel: "demo" for channel in channels},
        hub_url=fake.url,
        callback_url=callback,
        lease_seconds=LEASE,
        renew_margin_seconds=86_400,
    )
    values = {"YOUTUBE_HUB_SECRET": SECRET} if secrets is None else secrets
    store = state or MemoryState()
    now = clock or Clock()
    run = SubscriptionRenewal(
        settings,
        WebSubHub(fake.url, timeout),
        EnvSecretSource(environ=values, dotenv_path=None),
        lambda: store,
        now,
    )
    return Job(run, store, now, values)


def test_the_first_run_subscribes_every_channel_with_websubs_form(hub: FakeHub) -> None:
    job = make_job(hub)
    assert job.run() == {"renewed": 2, "kept": 0, "failed": 0}
    assert sorted(hub.topics()) == sorted([topic(CHANNEL_A), topic(CHANNEL_B)])
    for request in hub.requests:
        assert request.path == "/subscribe"
        assert request.content_type == "application/x-www-form-urlencoded"
        assert request.form == {
            "hub.mode": ["subscribe"],
            "hub.topic": request.form["hub.topic"],
            "hub.callback": [CALLBACK],
            "hub.lease_seconds": [str(LEASE)],
            "hub.secret": [SECRET],
        }


def test_the_lease_is_stored_per_channel_without_the_secret_or_callback(hub: FakeHub) -> None:
    job = make_job(hub)
    job.run()
    stored = job.state.get(lease_key(CHANNEL_A))
    assert stored is not None
    assert stored["topic"] == topic(CHANNEL_A)
    assert datetime.fromisoformat(stored["expires_at"]) == T0 + timedelta(seconds=LEASE)
    assert stored["lease_seconds"] == LEASE
    assert SECRET not in repr(stored) and CALLBACK not in repr(stored)
    assert set(job.state.with_prefix("youtube:lease:")) == {
        lease_key(CHANNEL_A),
        lease_key(CHANNEL_B),
    }


def test_a_lease_far_from_its_end_is_kept_and_renewed_once_within_the_margin(
    hub: FakeHub,
) -> None:
    job = make_job(hub)
    job.run()
    hub.requests.clear()

    job.clock.current = T0 + timedelta(days=3, hours=23)  # 25 h left: outside the margin
    assert job.run() == {"renewed": 0, "kept": 2, "failed": 0}
    assert hub.requests == []

    job.clock.current = T0 + timedelta(days=4, hours=1)  # 23 h left: renew
    assert job.run() == {"renewed": 2, "kept": 0, "failed": 0}
    assert len(hub.requests) == 2
    stored = job.state.get(lease_key(CHANNEL_B))
    assert stored is not None
    assert datetime.fromisoformat(stored["expires_at"]) == job.clock.current + timedelta(
        seconds=LEASE
    )


def test_an_unreadable_stored_lease_counts_as_unknown(hub: FakeHub) -> None:
    job = make_job(hub, channels=(CHANNEL_A,))
    job.run()
    doc = job.state.get(lease_key(CHANNEL_A))
    assert doc is not None
    job.state.put(lease_key(CHANNEL_A), {**doc, "expires_at": "soon"})
    hub.requests.clear()
    assert job.run() == {"renewed": 1, "kept": 0, "failed": 0}


def test_a_new_callback_or_a_rotated_secret_renews_at_once(hub: FakeHub) -> None:
    first = make_job(hub, channels=(CHANNEL_A,))
    first.run()
    hub.requests.clear()

    moved = make_job(hub, channels=(CHANNEL_A,), callback=CALLBACK + "?v=2", state=first.state)
    assert moved.run()["renewed"] == 1
    assert hub.requests[-1].form["hub.callback"] == [CALLBACK + "?v=2"]

    rotated = make_job(
        hub,
        channels=(CHANNEL_A,),
        callback=CALLBACK + "?v=2",
        secrets={"YOUTUBE_HUB_SECRET": "a-new-secret"},
        state=first.state,
    )
    assert rotated.run()["renewed"] == 1
    assert hub.requests[-1].form["hub.secret"] == ["a-new-secret"]
    assert rotated.run() == {"renewed": 0, "kept": 1, "failed": 0}


def test_one_failing_topic_does_not_stop_the_others(hub: FakeHub) -> None:
    hub.status_by_topic[topic(CHANNEL_A)] = 503
    job = make_job(hub)
    assert job.run() == {"renewed": 1, "kept": 0, "failed": 1}
    assert sorted(hub.topics()) == sorted([topic(CHANNEL_A), topic(CHANNEL_B)])
    assert job.state.get(lease_key(CHANNEL_A)) is None  # still unknown: tried again next run
    assert job.state.get(lease_key(CHANNEL_B)) is not None

    del hub.status_by_topic[topic(CHANNEL_A)]
    hub.requests.clear()
    assert job.run() == {"renewed": 1, "kept": 1, "failed": 0}
    assert hub.topics() == [topic(CHANNEL_A)]


@pytest.mark.parametrize("status", [500, 429, 400])
def test_when_every_renewal_fails_the_job_asks_to_be_retried(hub: FakeHub, status: int) -> None:
    hub.status_by_topic = {topic(CHANNEL_A): status, topic(CHANNEL_B): status}
    job = make_job(hub)
    with pytest.raises(TransientError):
        job.run()
    assert len(hub.requests) == 2
    assert job.state.docs == {}


def test_a_hub_that_does_not_answer_in_time_is_a_failure_not_a_hang(hub: FakeHub) -> None:
    hub.stall_seconds = 1.0
    job = make_job(hub, channels=(CHANNEL_A,), timeout=0.2)
    started = time.monotonic()
    with pytest.raises(TransientError):
        job.run()
    assert time.monotonic() - started < 1.0
    assert job.state.docs == {}


@pytest.mark.parametrize(
    ("callback", "secrets"),
    [(None, None), (CALLBACK, {})],
    ids=["no-callback", "no-secret"],
)
def test_missing_configuration_fails_closed_before_calling_the_hub(
    hub: FakeHub, callback: str | None, secrets: dict[str, str] | None
) -> None:
    job = make_job(hub, callback=callback, secrets=secrets)
    with pytest.raises(ConfigurationError):
        job.run()
    assert hub.requests == []


def test_the_job_is_wired_by_name_and_reads_its_settings(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATENDE_YOUTUBE_TOPICS", f'{{"{CHANNEL_A}": "demo"}}')
    monkeypatch.setenv("ATENDE_YOUTUBE_HUB_URL", hub.url)
    monkeypatch.setenv("ATENDE_YOUTUBE_CALLBACK_URL", CALLBACK)
    monkeypatch.setenv("ATENDE_YOUTUBE_LEASE_SECONDS", "86400")
    state = MemoryState()
    deps = ChannelDeps(
        settings=Settings(_env_file=None),
        secrets=EnvSecretSource(environ={"YOUTUBE_HUB_SECRET": SECRET}, dotenv_path=None),
        clock=Clock(),
        state=lambda: state,
        tasks=lambda: pytest.fail("the renewal job enqueues nothing"),
    )
    (renew,) = wiring.PLUGIN.jobs
    assert renew.name == "youtube_renew"
    assert renew.build(deps)() == {"renewed": 1, "kept": 0, "failed": 0}
    assert [r.form["hub.lease_seconds"] for r in hub.requests] == [["86400"]]
    assert state.get(lease_key(CHANNEL_A)) is not None
