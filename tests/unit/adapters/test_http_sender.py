"""The HTTP sender against a scripted Graph-like server on loopback."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from atende.adapters.http_sender import HttpProviderSender, RetryPolicy, make_breaker
from atende.channels.whatsapp.client import WhatsAppCloudApi
from atende.domain.messages import ButtonsMessage, TextMessage
from atende.domain.outbox import OutboxRecord
from atende.errors import (
    ConfigurationError,
    InvalidOutboundMessageError,
    ProviderPermanentError,
    ProviderTransientError,
)

NOW = datetime(2026, 11, 25, tzinfo=UTC)


class Graph:
    """Answers from a script of (status, body, delay) and records what it received."""

    def __init__(self):
        self.script: list[tuple[int, dict, float]] = []
        self.received: list[dict] = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["content-length"])
                graph.received.append(
                    {
                        "path": self.path,
                        "auth": self.headers["authorization"],
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                status, body, delay = (
                    graph.script.pop(0)
                    if graph.script
                    else (200, {"messages": [{"id": f"wamid.{len(graph.received)}"}]}, 0)
                )
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v23.0"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def graph():
    server = Graph()
    yield server
    server.close()


def record(message=None) -> OutboxRecord:
    return OutboxRecord(
        id="o1",
        tenant_id="demo",
        channel="whatsapp",
        session_id="s1",
        account_id="106540352242922",
        recipient="5511999990000",
        message=message or TextMessage(body="Olá"),
        inbound_event_id="wamid.A",
        reply_index=0,
        order_key="1",
        created_at=NOW,
        updated_at=NOW,
        expire_at=NOW + timedelta(days=1),
    )


def sender(url, token="tok", fail_max=5, reset=30.0, timeout=2.0, tries=3):
    return HttpProviderSender(
        WhatsAppCloudApi(url, lambda: token),
        make_breaker("whatsapp", fail_max, reset),
        timeout,
        RetryPolicy(max_tries=tries, initial_wait=0.01, max_wait=0.02),
    )


def meta_error(code):
    return {"error": {"message": "x", "type": "OAuthException", "code": code, "fbtrace_id": "A"}}


def test_a_text_reply_is_posted_to_the_phone_numbers_messages_edge(graph):
    result = sender(graph.url).send(record())
    assert result.provider_message_id == "wamid.1" and result.attempts == 1
    sent = graph.received[0]
    assert sent["path"] == "/v23.0/106540352242922/messages"
    assert sent["auth"] == "Bearer tok"
    assert sent["body"]["to"] == "5511999990000"
    assert sent["body"]["text"]["body"] == "Olá"
    assert sent["body"]["biz_opaque_callback_data"] == "o1"


def test_transient_failures_are_retried_and_counted(graph):
    graph.script = [(500, meta_error(2), 0), (500, meta_error(2), 0)]
    result = sender(graph.url).send(record())
    assert result.attempts == 3 and len(graph.received) == 3
    assert result.failures == ("meta_2", "meta_2")


def test_meta_throttling_inside_a_400_is_retried(graph):
    graph.script = [(400, meta_error(131056), 0)]
    assert sender(graph.url).send(record()).attempts == 2


def test_a_permanent_error_is_not_retried(graph):
    graph.script = [(400, meta_error(131047), 0)]
    with pytest.raises(ProviderPermanentError) as caught:
        sender(graph.url).send(record())
    assert caught.value.code == "meta_131047"
    assert caught.value.attempts == 1 and len(graph.received) == 1


def test_transient_failures_that_outlast_the_retries_raise_transient(graph):
    graph.script = [(503, {}, 0)] * 3
    with pytest.raises(ProviderTransientError) as caught:
        sender(graph.url).send(record())
    assert caught.value.attempts == 3 and caught.value.failures == ("http_503",) * 3


def test_a_slow_provider_times_out_as_transient(graph):
    graph.script = [(200, {}, 1.0)]
    with pytest.raises(ProviderTransientError) as caught:
        sender(graph.url, timeout=0.2, tries=1).send(record())
    assert caught.value.code == "timeout"


def test_an_unreachable_provider_is_transient():
    with pytest.raises(ProviderTransientError) as caught:
        sender("http://127.0.0.1:9/v23.0", tries=1).send(record())
    assert caught.value.code == "connection_error"


def test_the_breaker_opens_after_repeated_failures_and_half_opens_later(graph):
    graph.script = [(500, {}, 0)] * 4
    breaking = sender(graph.url, fail_max=3, reset=0.5, tries=1)
    for _ in range(3):
        with pytest.raises(ProviderTransientError):
            breaking.send(record())
    with pytest.raises(ProviderTransientError) as caught:
        breaking.send(record())
    assert caught.value.code == "breaker_open" and caught.value.attempts == 0
    assert len(graph.received) == 3  # nothing went out while open
    time.sleep(0.6)
    graph.script = []
    assert breaking.send(record()).provider_message_id is not None  # the half-open trial
    assert len(graph.received) == 4


def test_permanent_errors_do_not_trip_the_breaker(graph):
    graph.script = [(400, meta_error(100), 0)] * 3
    quiet = sender(graph.url, fail_max=2, tries=1)
    for _ in range(3):
        with pytest.raises(ProviderPermanentError):
            quiet.send(record())
    assert quiet.send(record()).attempts == 1


def test_an_invalid_message_is_refused_before_anything_is_sent(graph):
    too_many = ButtonsMessage(
        body="x", buttons=tuple({"id": str(i), "title": str(i)} for i in range(4))
    )
    with pytest.raises(InvalidOutboundMessageError):
        sender(graph.url).send(record(too_many))
    assert graph.received == []


def test_a_missing_access_token_fails_closed(graph):
    with pytest.raises(ConfigurationError):
        sender(graph.url, token=None).send(record())
    assert graph.received == []
