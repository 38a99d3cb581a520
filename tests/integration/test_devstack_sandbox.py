"""The WhatsApp Graph API sandbox, served by uvicorn in its own process."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from atende.devstack.processes import ManagedProcess, free_port, serve_in_thread, wait_http
from atende.devstack.sandbox import SandboxClient, create_app

TOKEN = "sandbox-test-token"
PHONE_ID = "106540352242922"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_app(TOKEN)) as url:
        yield url


@pytest.fixture
def sandbox(base_url: str) -> SandboxClient:
    client = SandboxClient(base_url)
    client.clear()
    return client


def _send(base_url: str, to: str = "5511999990000", token: str | None = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Oi"}}
    with requests.Session() as session:
        return session.post(
            f"{base_url}/graph/v23.0/{PHONE_ID}/messages", json=body, headers=headers, timeout=10
        )


def test_records_requests_and_answers_like_the_graph_api(
    base_url: str, sandbox: SandboxClient
) -> None:
    assert sandbox.health()
    first, second = _send(base_url, to="5511900000001"), _send(base_url, to="5511900000002")
    assert first.status_code == 200
    answer: dict[str, Any] = first.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "5511900000001", "wa_id": "5511900000001"}]
    first_id, second_id = answer["messages"][0]["id"], second.json()["messages"][0]["id"]
    assert first_id.startswith("wamid.sandbox.")
    assert second_id != first_id

    recorded = sandbox.wait_for_requests(2, timeout=5)
    assert [r["index"] for r in recorded] == [0, 1]
    assert recorded[0]["path"] == f"/graph/v23.0/{PHONE_ID}/messages"
    assert recorded[0]["method"] == "POST"
    assert recorded[0]["phone_number_id"] == PHONE_ID
    assert recorded[0]["json"]["to"] == "5511900000001"
    assert recorded[0]["authorized"] is True
    assert recorded[0]["status"] == 200
    assert isinstance(recorded[0]["time"], float)

    sandbox.clear()
    assert sandbox.requests() == []


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_wrong_or_missing_token_is_401_oauth_190(
    base_url: str, sandbox: SandboxClient, token: str | None
) -> None:
    sandbox.script([{"status": 500, "body": {}}])  # not consumed by an unauthorized call
    response = _send(base_url, token=token)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["message"] == "Invalid OAuth access token."
    assert error["type"] == "OAuthException"
    assert error["code"] == 190
    assert error["fbtrace_id"]
    assert sandbox.requests()[0]["authorized"] is False
    assert _send(base_url).status_code == 500  # the script is still there


def test_scripted_responses_are_used_in_order_then_the_default(
    base_url: str, sandbox: SandboxClient
) -> None:
    throttled = {"error": {"message": "Rate limit hit", "type": "OAuthException", "code": 130429}}
    sandbox.script([{"status": 500, "body": {"error": {"code": 1}}}])
    sandbox.script([{"status": 429, "body": throttled}])
    codes = [_send(base_url) for _ in range(3)]
    assert [r.status_code for r in codes] == [500, 429, 200]
    assert codes[1].json() == throttled
    assert codes[2].json()["messages"][0]["id"].startswith("wamid.sandbox.")
    assert [r["status"] for r in sandbox.requests()] == [500, 429, 200]


def test_scripted_delay_holds_the_answer(base_url: str, sandbox: SandboxClient) -> None:
    sandbox.script([{"status": 200, "delay_seconds": 0.8}])
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{base_url}/graph/v23.0/{PHONE_ID}/messages",
            json={"messaging_product": "whatsapp", "to": "1"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=0.3,
        )
    assert time.monotonic() - started < 0.8
    # The sandbox keeps serving others while one answer is held.
    assert _send(base_url).status_code == 200
    assert len(sandbox.wait_for_requests(2, timeout=5)) == 2


def test_a_body_that_is_not_a_message_is_400(base_url: str, sandbox: SandboxClient) -> None:
    response = requests.post(
        f"{base_url}/graph/v23.0/{PHONE_ID}/messages",
        json={"to": "5511"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


def test_wait_for_requests_times_out(sandbox: SandboxClient) -> None:
    with pytest.raises(TimeoutError, match="got 0 request"):
        sandbox.wait_for_requests(1, timeout=0.2)


def test_script_rejects_a_malformed_script(base_url: str, sandbox: SandboxClient) -> None:
    response = requests.post(f"{base_url}/_sandbox/script", json={"responses": "no"}, timeout=5)
    assert response.status_code == 400


def test_main_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "atende.devstack.sandbox", "--port", "1"]
    process = ManagedProcess("sandbox", argv, dict(os.environ), tmp_path / "s.log")
    with process:
        deadline = time.monotonic() + 20
        while process.returncode is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert process.returncode == 2


def test_runs_as_a_module_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "atende.devstack.sandbox", "--port", str(port),
            "--access-token", TOKEN]  # fmt: skip
    with ManagedProcess("sandbox", argv, dict(os.environ), tmp_path / "s.log") as process:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_sandbox/health", 20, process)
        assert SandboxClient(url).health()
        assert _send(url).status_code == 200
        assert _send(url, token="nope").status_code == 401


def test_a_send_api_message_gets_a_recipient_and_a_message_id(
    base_url: str, sandbox: SandboxClient
) -> None:
    body = {
        "recipient": {"id": "24521234"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Oi"},
    }
    with requests.Session() as session:
        answer = session.post(
            f"{base_url}/graph/v23.0/1000001/messages",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
    assert answer.status_code == 200
    assert answer.json()["recipient_id"] == "24521234"
    assert answer.json()["message_id"].startswith("m_sandbox.")


def test_any_other_provider_is_recorded_and_answered_with_an_id_or_the_script(
    base_url: str, sandbox: SandboxClient
) -> None:
    url = f"{base_url}/discord/api/v10/webhooks/123/tok"
    with requests.Session() as session:
        first = session.post(url, json={"content": "Oi"}, timeout=10)
        sandbox.script([{"status": 404, "body": {"code": 10015, "message": "Unknown Webhook"}}])
        second = session.post(url, json={"content": "Oi de novo"}, timeout=10)
    assert first.status_code == 200 and first.json()["id"].startswith("sandbox.")
    assert second.status_code == 404 and second.json()["code"] == 10015
    recorded = sandbox.requests()
    assert [r["provider"] for r in recorded] == ["discord", "discord"]
    assert recorded[0]["path"] == "/discord/api/v10/webhooks/123/tok"
    assert recorded[0]["json"] == {"content": "Oi"} and recorded[1]["status"] == 404
