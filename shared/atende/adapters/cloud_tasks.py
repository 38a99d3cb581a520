"""Cloud Tasks adapters: HTTP tasks for worker functions, named for idempotency.

A task named like an existing one is refused by Cloud Tasks with ALREADY_EXISTS; that is
how a provider's retry of the same event avoids a second task, so it is not an error here.
Clients are built on first use (the async one inside the running event loop).

Against the local emulator, every call names the calling function in the
`x-atende-identity` metadata entry, standing in for the function's service account: the
emulator refuses a task on a queue the function was not granted (atende.deployment), as
Cloud Tasks' IAM does in the cloud. In the cloud the credentials say who calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from atende.config import Settings
from atende.errors import ConfigurationError, TransientError
from atende.ports import TaskRequest

CORRELATION_HEADER = "x-atende-correlation-id"
TASK_TOKEN_HEADER = "x-atende-task-token"  # noqa: S105 - a header name, not a secret
#: When the task was created (ISO 8601, UTC): a dead letter tells how long its work failed.
ENQUEUED_AT_HEADER = "x-atende-enqueued-at"
#: gRPC metadata naming the caller to the local emulator (its stand-in for IAM).
IDENTITY_METADATA = "x-atende-identity"
#: Whoever operates the project (the CLI, tests): not a function, so not restricted.
OPERATOR_IDENTITY = "atende-cli"


class _TaskBuilder:
    def __init__(self, settings: Settings, task_secret: str | None) -> None:
        self._settings = settings
        self._task_secret = task_secret

    def queue_path(self, task: TaskRequest) -> str:
        s = self._settings
        return f"projects/{s.project}/locations/{s.location}/queues/{s.queue_id(task.queue)}"

    def build(self, task: TaskRequest) -> Any:
        """The Cloud Tasks `Task`, built as its protobuf and wrapped: the proto-plus
        constructors cost about five times as much, on the webhook's hot path."""
        from google.cloud import tasks_v2
        from google.protobuf import timestamp_pb2

        url = self._settings.function_url(task.target)
        headers = {
            "content-type": "application/json",
            CORRELATION_HEADER: task.correlation_id,
            ENQUEUED_AT_HEADER: datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        http_request = tasks_v2.HttpRequest.pb()(
            url=url, http_method=tasks_v2.HttpMethod.POST, headers=headers, body=task.body
        )
        if self._settings.task_auth == "oidc":
            http_request.oidc_token.service_account_email = (
                self._settings.tasks_service_account or ""
            )
            http_request.oidc_token.audience = url
        elif self._task_secret:
            http_request.headers[TASK_TOKEN_HEADER] = self._task_secret
        built = tasks_v2.Task.pb()(
            name=f"{self.queue_path(task)}/tasks/{task.task_id}", http_request=http_request
        )
        if task.schedule_at is not None:
            schedule = timestamp_pb2.Timestamp()
            schedule.FromDatetime(task.schedule_at)
            built.schedule_time.CopyFrom(schedule)
        return tasks_v2.Task.wrap(built)


def make_client(emulator_host: str | None, *, asynchronous: bool) -> Any:
    """The real client; on an insecure loopback channel when an emulator is configured."""
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks import transports

    if not emulator_host:
        return tasks_v2.CloudTasksAsyncClient() if asynchronous else tasks_v2.CloudTasksClient()
    import grpc

    if asynchronous:
        channel = grpc.aio.insecure_channel(emulator_host)
        transport = transports.CloudTasksGrpcAsyncIOTransport(channel=channel)
        return tasks_v2.CloudTasksAsyncClient(transport=transport)
    sync_transport = transports.CloudTasksGrpcTransport(
        channel=grpc.insecure_channel(emulator_host)
    )
    return tasks_v2.CloudTasksClient(transport=sync_transport)


def call_metadata(emulator_host: str | None, identity: str) -> tuple[tuple[str, str], ...]:
    """The identity entry for an emulator; nothing for the real service."""
    return ((IDENTITY_METADATA, identity),) if emulator_host else ()


def _is_already_exists(error: Exception) -> bool:
    from google.api_core import exceptions

    return isinstance(error, exceptions.AlreadyExists)


def _enqueue_error(error: Exception) -> TransientError:
    """Every failure to enqueue is retried; a refused grant says so (an operator fixes it)."""
    from google.api_core import exceptions

    if isinstance(error, exceptions.PermissionDenied):
        return ConfigurationError(
            "this function may not enqueue to that queue", code="enqueue_forbidden"
        )
    return TransientError("could not enqueue task", code="enqueue_failed")


class CloudTasksQueue:
    """Synchronous queue, for the worker functions."""

    def __init__(
        self,
        settings: Settings,
        task_secret: str | None = None,
        client_factory: Callable[[], Any] | None = None,
        identity: str = OPERATOR_IDENTITY,
    ) -> None:
        self._builder = _TaskBuilder(settings, task_secret)
        self._emulator = settings.tasks_emulator_host
        self._metadata = call_metadata(self._emulator, identity)
        self._factory = client_factory or self._default_client
        self._client: Any = None
        self._lock = threading.Lock()

    def _default_client(self) -> Any:
        return make_client(self._emulator, asynchronous=False)

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def enqueue(self, task: TaskRequest) -> bool:
        client = self._get_client()
        try:
            client.create_task(
                parent=self._builder.queue_path(task),
                task=self._builder.build(task),
                metadata=self._metadata,
            )
        except Exception as error:
            if _is_already_exists(error):
                return False
            raise _enqueue_error(error) from error
        return True


class AsyncCloudTasksQueue:
    """Asynchronous queue, for the webhooks' event loop."""

    def __init__(
        self,
        settings: Settings,
        task_secret: str | None = None,
        client_factory: Callable[[], Any] | None = None,
        identity: str = OPERATOR_IDENTITY,
    ) -> None:
        self._builder = _TaskBuilder(settings, task_secret)
        self._emulator = settings.tasks_emulator_host
        self._metadata = call_metadata(self._emulator, identity)
        self._factory = client_factory or self._default_client
        self._client: Any = None

    def _default_client(self) -> Any:
        return make_client(self._emulator, asynchronous=True)

    async def enqueue(self, task: TaskRequest) -> bool:
        # Built on first use, inside the loop that will use it (grpc.aio binds to it).
        if self._client is None:
            self._client = self._factory()
        try:
            await self._client.create_task(
                parent=self._builder.queue_path(task),
                task=self._builder.build(task),
                metadata=self._metadata,
            )
        except Exception as error:
            if _is_already_exists(error):
                return False
            raise _enqueue_error(error) from error
        return True
