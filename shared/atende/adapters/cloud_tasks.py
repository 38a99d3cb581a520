"""Cloud Tasks adapters: HTTP tasks for worker functions, named for idempotency.

A task named like an existing one is refused by Cloud Tasks with ALREADY_EXISTS; that is
how a provider's retry of the same event avoids a second task, so it is not an error here.
Clients are built on first use (the async one inside the running event loop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from atende.config import Settings
from atende.errors import TransientError
from atende.ports import TaskRequest

CORRELATION_HEADER = "x-atende-correlation-id"
TASK_TOKEN_HEADER = "x-atende-task-token"  # noqa: S105 - a header name, not a secret


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
        headers = {"content-type": "application/json", CORRELATION_HEADER: task.correlation_id}
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


def _is_already_exists(error: Exception) -> bool:
    from google.api_core import exceptions

    return isinstance(error, exceptions.AlreadyExists)


class CloudTasksQueue:
    """Synchronous queue, for the worker functions."""

    def __init__(
        self,
        settings: Settings,
        task_secret: str | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._builder = _TaskBuilder(settings, task_secret)
        self._emulator = settings.tasks_emulator_host
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
                parent=self._builder.queue_path(task), task=self._builder.build(task)
            )
        except Exception as error:
            if _is_already_exists(error):
                return False
            raise TransientError("could not enqueue task", code="enqueue_failed") from error
        return True


class AsyncCloudTasksQueue:
    """Asynchronous queue, for the webhooks' event loop."""

    def __init__(
        self,
        settings: Settings,
        task_secret: str | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._builder = _TaskBuilder(settings, task_secret)
        self._emulator = settings.tasks_emulator_host
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
                parent=self._builder.queue_path(task), task=self._builder.build(task)
            )
        except Exception as error:
            if _is_already_exists(error):
                return False
            raise TransientError("could not enqueue task", code="enqueue_failed") from error
        return True
