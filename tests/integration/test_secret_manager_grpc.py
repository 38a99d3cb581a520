"""SecretManagerSource against a real gRPC server speaking the Secret Manager protocol.

The server is built from the client library's own message types, so the request the
adapter sends and the response it decodes go over the wire exactly as they would in Google
Cloud; only the server logic is ours.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.cloud.secretmanager_v1 import SecretManagerServiceClient
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)
from google.cloud.secretmanager_v1.types import (
    AccessSecretVersionRequest,
    AccessSecretVersionResponse,
    SecretPayload,
)

from atende.adapters.secret_manager import SecretManagerSource
from atende.errors import ConfigurationError, TransientError

PROJECT = "atende-test"
SECRET_VALUE = "s3cr3t-välue"


@dataclass
class FakeSecretManager:
    """Secret id -> value; a secret id mapped to a status code fails with that code."""

    secrets: dict[str, str | bytes | grpc.StatusCode] = field(default_factory=dict)
    #: The next N calls fail with UNAVAILABLE, whatever they ask for.
    unavailable_next: int = 0
    delay: float = 0.0
    requested: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def access(self, request: AccessSecretVersionRequest, context: grpc.ServicerContext) -> Any:
        with self.lock:
            self.requested.append(request.name)
            unavailable = self.unavailable_next > 0
            self.unavailable_next -= unavailable
        time.sleep(self.delay)
        if unavailable:
            context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        prefix = f"projects/{PROJECT}/secrets/"
        secret_id = request.name.removeprefix(prefix).removesuffix("/versions/latest")
        value = self.secrets.get(secret_id, grpc.StatusCode.NOT_FOUND)
        if isinstance(value, grpc.StatusCode):
            context.abort(value, f"secret {secret_id}: {value.name}")
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        return AccessSecretVersionResponse(name=request.name, payload=SecretPayload(data=data))


@pytest.fixture
def fake() -> FakeSecretManager:
    return FakeSecretManager(secrets={"whatsapp-app-secret": SECRET_VALUE})


@pytest.fixture
def address(fake: FakeSecretManager) -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    handler = grpc.method_handlers_generic_handler(
        "google.cloud.secretmanager.v1.SecretManagerService",
        {
            "AccessSecretVersion": grpc.unary_unary_rpc_method_handler(
                fake.access,
                request_deserializer=AccessSecretVersionRequest.deserialize,
                response_serializer=AccessSecretVersionResponse.serialize,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait()


@pytest.fixture
def channels() -> Iterator[list[grpc.Channel]]:
    opened: list[grpc.Channel] = []
    yield opened
    for channel in opened:
        channel.close()


@pytest.fixture
def make_source(address: str, channels: list[grpc.Channel]) -> Any:
    def make(**options: Any) -> tuple[SecretManagerSource, list[int]]:
        built: list[int] = []

        def client_factory() -> SecretManagerServiceClient:
            built.append(1)
            channel = grpc.insecure_channel(address)
            channels.append(channel)
            return SecretManagerServiceClient(
                transport=SecretManagerServiceGrpcTransport(channel=channel)
            )

        return SecretManagerSource(PROJECT, client_factory, **options), built

    return make


def test_reads_the_latest_version_once(fake: FakeSecretManager, make_source: Any) -> None:
    source, built = make_source()
    assert built == []  # no client until the first get

    assert source.get("WHATSAPP_APP_SECRET") == SECRET_VALUE
    assert source.get("WHATSAPP_APP_SECRET") == SECRET_VALUE
    assert fake.requested == [f"projects/{PROJECT}/secrets/whatsapp-app-secret/versions/latest"]
    assert built == [1]


def test_concurrent_first_calls_share_one_rpc(fake: FakeSecretManager, make_source: Any) -> None:
    fake.delay = 0.2
    source, built = make_source()
    barrier = threading.Barrier(8)

    def read() -> str | None:
        barrier.wait()
        value: str | None = source.get("WHATSAPP_APP_SECRET")
        return value

    with futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: read(), range(8)))

    assert results == [SECRET_VALUE] * 8
    assert len(fake.requested) == 1
    assert built == [1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_missing_is_none_for_a_while_then_asked_again(
    fake: FakeSecretManager, make_source: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.secrets["whatsapp-access-token"] = grpc.StatusCode.NOT_FOUND
    clock = FakeClock()
    source, _ = make_source(failure_seconds=30, monotonic=clock)

    with caplog.at_level(logging.WARNING, logger="atende.adapters.secret_manager"):
        assert source.get("WHATSAPP_ACCESS_TOKEN") is None
        assert source.get("WHATSAPP_ACCESS_TOKEN") is None
    assert len(fake.requested) == 1  # remembered: no RPC per call
    assert len(caplog.records) == 1
    assert "whatsapp-access-token" in caplog.records[0].getMessage()
    # Other secrets are unaffected.
    assert source.get("WHATSAPP_APP_SECRET") == SECRET_VALUE

    # The operator creates the secret: seen once the failure is forgotten, no new instance.
    fake.secrets["whatsapp-access-token"] = "created-later"
    clock.now += 29
    assert source.get("WHATSAPP_ACCESS_TOKEN") is None
    clock.now += 2
    assert source.get("WHATSAPP_ACCESS_TOKEN") == "created-later"


def test_forbidden_is_a_transient_configuration_error_until_the_grant_arrives(
    fake: FakeSecretManager, make_source: Any
) -> None:
    fake.secrets["whatsapp-access-token"] = grpc.StatusCode.PERMISSION_DENIED
    clock = FakeClock()
    source, _ = make_source(failure_seconds=30, monotonic=clock)

    for _ in range(2):
        with pytest.raises(ConfigurationError) as raised:
            source.get("WHATSAPP_ACCESS_TOKEN")
        assert raised.value.code == "secret_forbidden"
        assert isinstance(raised.value, TransientError)  # the queue retries the work
    assert len(fake.requested) == 1

    fake.secrets["whatsapp-access-token"] = "granted"  # the grant propagated
    clock.now += 31
    assert source.get("WHATSAPP_ACCESS_TOKEN") == "granted"


def test_unavailable_is_transient_and_not_cached(fake: FakeSecretManager, make_source: Any) -> None:
    fake.unavailable_next = 1
    source, _ = make_source(retry_deadline=0)

    with pytest.raises(TransientError) as raised:
        source.get("WHATSAPP_APP_SECRET")
    assert raised.value.code == "secret_unavailable"
    assert SECRET_VALUE not in str(raised.value)

    assert source.get("WHATSAPP_APP_SECRET") == SECRET_VALUE
    assert len(fake.requested) == 2


def test_short_unavailability_is_retried_inside_the_call(
    fake: FakeSecretManager, make_source: Any
) -> None:
    fake.unavailable_next = 2
    source, _ = make_source()

    started = time.monotonic()
    assert source.get("WHATSAPP_APP_SECRET") == SECRET_VALUE
    assert len(fake.requested) == 3
    assert time.monotonic() - started < 2.0


def test_other_errors_are_transient(fake: FakeSecretManager, make_source: Any) -> None:
    fake.secrets["whatsapp-verify-token"] = grpc.StatusCode.INTERNAL
    source, _ = make_source()
    with pytest.raises(TransientError):
        source.get("WHATSAPP_VERIFY_TOKEN")


def test_empty_value_is_not_configured(fake: FakeSecretManager, make_source: Any) -> None:
    fake.secrets["atende-task-secret"] = ""
    source, _ = make_source()
    assert source.get("ATENDE_TASK_SECRET") is None


def test_bytes_that_are_not_utf8_are_a_configuration_error(
    fake: FakeSecretManager, make_source: Any
) -> None:
    fake.secrets["atende-task-secret"] = b"\xff\xfe"
    source, _ = make_source()
    with pytest.raises(ConfigurationError):
        source.get("ATENDE_TASK_SECRET")


def test_a_name_cannot_reach_another_resource(fake: FakeSecretManager, make_source: Any) -> None:
    source, _ = make_source()
    with pytest.raises(ConfigurationError):
        source.get("../../other-project/secrets/x")
    assert fake.requested == []


def test_default_client_is_not_built_at_construction() -> None:
    # No credentials exist here: constructing must not touch the client library at all.
    SecretManagerSource(PROJECT)
    with pytest.raises(ConfigurationError):
        SecretManagerSource("")
