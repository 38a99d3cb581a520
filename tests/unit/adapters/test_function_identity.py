"""Each function acts as its own identity: it enqueues as itself and reads only the secrets
atende.deployment declares for it (the local stand-ins for its service account's IAM)."""

import json
from datetime import datetime

import pytest
from google.api_core import exceptions

from atende.adapters.cloud_tasks import (
    ENQUEUED_AT_HEADER,
    IDENTITY_METADATA,
    OPERATOR_IDENTITY,
    CloudTasksQueue,
    _TaskBuilder,
)
from atende.adapters.declared_secrets import DeclaredSecrets
from atende.bootstrap import Container, NoSenderError, _LazySenders, container, reset_container
from atende.config import TASK_SHARED_SECRET, Settings
from atende.deployment import grants
from atende.errors import ConfigurationError, TransientError
from atende.ports import TaskRequest

REQUEST = TaskRequest(
    queue="outbound", task_id="t1", target="send_outbound", body=b"{}", correlation_id="c"
)


class RecordingClient:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict] = []
        self.error = error

    def create_task(self, **call):
        self.calls.append(call)
        if self.error is not None:
            raise self.error


def settings(**overrides) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def test_against_the_emulator_every_task_names_the_function_that_creates_it():
    client = RecordingClient()
    queue = CloudTasksQueue(
        settings(tasks_emulator_host="127.0.0.1:1"),
        client_factory=lambda: client,
        identity="send_outbound",
    )
    assert queue.enqueue(REQUEST) is True
    assert client.calls[0]["metadata"] == ((IDENTITY_METADATA, "send_outbound"),)


def test_in_the_cloud_the_credentials_say_who_calls():
    client = RecordingClient()
    queue = CloudTasksQueue(settings(), client_factory=lambda: client, identity="send_outbound")
    queue.enqueue(REQUEST)
    assert client.calls[0]["metadata"] == ()


def test_a_refused_grant_is_a_transient_configuration_error_that_says_so():
    denied = exceptions.PermissionDenied('lacks IAM permission "cloudtasks.tasks.create"')
    queue = CloudTasksQueue(settings(), client_factory=lambda: RecordingClient(denied))
    with pytest.raises(ConfigurationError) as raised:
        queue.enqueue(REQUEST)
    assert raised.value.code == "enqueue_forbidden"
    assert isinstance(raised.value, TransientError)  # the queue retries once it is fixed


def test_other_enqueue_failures_stay_transient_and_a_known_name_is_not_an_error():
    failing = CloudTasksQueue(
        settings(), client_factory=lambda: RecordingClient(exceptions.ServiceUnavailable("x"))
    )
    with pytest.raises(TransientError) as raised:
        failing.enqueue(REQUEST)
    assert raised.value.code == "enqueue_failed"
    exists = CloudTasksQueue(
        settings(), client_factory=lambda: RecordingClient(exceptions.AlreadyExists("x"))
    )
    assert exists.enqueue(REQUEST) is False


def test_every_task_says_when_it_was_created():
    built = _TaskBuilder(settings(), None).build(REQUEST)
    stamp = datetime.fromisoformat(built.http_request.headers[ENQUEUED_AT_HEADER])
    assert stamp.tzinfo is not None


class DictSecrets:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def test_a_function_reads_its_declared_secrets_and_no_other(tmp_path, caplog):
    path = tmp_path / "grants.json"
    path.write_text(json.dumps(grants()))
    inner = DictSecrets({"WHATSAPP_APP_SECRET": "app", "WHATSAPP_ACCESS_TOKEN": "token"})
    webhook = DeclaredSecrets.from_grants_file(inner, "whatsapp_webhook", str(path))
    assert webhook.get("WHATSAPP_APP_SECRET") == "app"
    with pytest.raises(ConfigurationError) as raised:
        webhook.get("WHATSAPP_ACCESS_TOKEN")  # send_outbound's, not the webhook's
    assert raised.value.code == "secret_not_granted"
    assert "token" not in caplog.text  # names are logged, never values
    sender = DeclaredSecrets.from_grants_file(inner, "send_outbound", str(path))
    assert sender.get("WHATSAPP_ACCESS_TOKEN") == "token"


def test_an_unreadable_grants_file_fails_closed_and_can_be_fixed(tmp_path):
    with pytest.raises(ConfigurationError) as raised:
        DeclaredSecrets.from_grants_file(DictSecrets({}), "x", str(tmp_path / "missing.json"))
    assert raised.value.code == "grants_file"


def test_a_container_of_a_function_scopes_its_secrets_and_its_queue_identity(tmp_path, monkeypatch):
    path = tmp_path / "grants.json"
    path.write_text(json.dumps(grants()))
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "app")
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "token")
    monkeypatch.setenv(TASK_SHARED_SECRET, "task")
    local = settings(secrets_backend="env", local_grants_file=str(path), task_auth="shared-secret")
    webhook = Container(local, function="whatsapp_webhook")
    assert webhook.identity == "whatsapp_webhook"
    assert webhook.secrets.get("WHATSAPP_APP_SECRET") == "app"
    assert webhook.secrets.get(TASK_SHARED_SECRET) == "task"  # local stand-in for OIDC
    with pytest.raises(ConfigurationError):
        webhook.secrets.get("WHATSAPP_ACCESS_TOKEN")
    # The CLI is the operator: not scoped, not a function.
    operator = Container(local)
    assert operator.identity == OPERATOR_IDENTITY
    assert operator.secrets.get("WHATSAPP_ACCESS_TOKEN") == "token"


def test_each_function_gets_its_own_container_once_per_instance():
    reset_container(None)
    try:
        assert container("send_outbound") is container("send_outbound")
        assert container("send_outbound") is not container("process_inbound")
        assert container("send_outbound").function == "send_outbound"
        assert container().function is None
    finally:
        reset_container(None)


def test_only_a_channel_without_a_sender_has_none_a_broken_one_is_retried():
    def build(channel: str):
        if channel == "google_calendar":
            raise NoSenderError(channel)
        raise ConfigurationError("cannot load", code="channel_unavailable")

    senders = _LazySenders(build)
    assert senders.get("google_calendar") is None
    with pytest.raises(ConfigurationError):
        senders.get("whatsapp")


def test_the_container_tells_a_channel_that_sends_nothing_from_one_that_cannot_load(
    monkeypatch,
):
    app = Container(settings(secrets_backend="env"))
    with pytest.raises(NoSenderError):
        app.sender("google_calendar")  # calendars send nothing
    with pytest.raises(NoSenderError):
        app.sender("no_such_channel")

    def broken(channel: str):
        raise ModuleNotFoundError("No module named 'a_dependency'")

    monkeypatch.setattr(app, "_plugin", broken)
    with pytest.raises(ConfigurationError) as raised:
        app.sender("whatsapp")
    assert raised.value.code == "channel_unavailable"
