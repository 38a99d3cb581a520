"""The real OpenAI client, through `OpenAiConversation`, against the local AI sandbox.

Every test talks HTTP on loopback: what the sandbox records is what an AI provider would
have received.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from atende.adapters.openai_client import OpenAiConversation
from atende.ai.contract import AiReply, AiRequest, AiUnavailableError
from atende.ai.request import Role, build_request
from atende.ai.settings import AiSettings
from atende.ai.validate import validate_reply
from atende.devstack.ai_sandbox import AiSandboxClient, serve_ai_sandbox
from atende.devstack.processes import ManagedProcess, free_port, wait_http
from atende.tenants.tenant_config import AiConfig, TenantConfig

API_KEY = "sk-sandbox-test"
TENANT = TenantConfig(
    ai=AiConfig(enabled=True, model="gpt-4o-test", min_confidence=0.6),
    prohibited_patterns=(r"garant\w* .*reembolso",),
)
HISTORY: list[tuple[Role, str]] = [
    ("user", "Oi! Meu número é +55 11 98765-4321, pode me ligar?"),
    ("assistant", "Olá! Como posso ajudar?"),
    ("user", "Quero saber do meu pedido"),
]
GOOD = {"reply": "Claro! Vou verificar seu pedido.", "next_state": "waiting_user",
        "handoff": False, "confidence": 0.9}  # fmt: skip

MakeAi = Callable[..., OpenAiConversation]


def make_request(allowed: tuple[str, ...] = ("waiting_user", "handoff")) -> AiRequest:
    return build_request(
        tenant_id="loja",
        channel="whatsapp",
        state="triage",
        allowed_next_states=allowed,
        history=HISTORY,
        tenant=TENANT,
        text_limit=300,
        budget_chars=4000,
        model="gpt-4o-mini",
    )


@pytest.fixture(scope="module")
def served() -> Iterator[AiSandboxClient]:
    with serve_ai_sandbox(api_key=API_KEY) as client:
        yield client


@pytest.fixture
def sandbox(served: AiSandboxClient) -> AiSandboxClient:
    served.clear()
    return served


@pytest.fixture
def make_ai(sandbox: AiSandboxClient) -> Iterator[MakeAi]:
    made: list[OpenAiConversation] = []

    def make(
        *,
        timeout: float = 0.5,
        fail_max: int = 5,
        reset: float = 30.0,
        base_url: str | None = None,
        api_key: str = API_KEY,
    ) -> OpenAiConversation:
        settings = AiSettings(
            _env_file=None,
            base_url=base_url or sandbox.openai_base_url,
            timeout_seconds=timeout,
            breaker_fail_max=fail_max,
            breaker_reset_seconds=reset,
        )
        conversation = OpenAiConversation(settings, api_key)
        made.append(conversation)
        return conversation

    yield make
    for conversation in made:
        conversation.close()


def failure(ai: OpenAiConversation, request: AiRequest | None = None) -> str:
    with pytest.raises(AiUnavailableError) as caught:
        ai.suggest(request or make_request())
    return caught.value.reason


def test_a_good_json_reply_becomes_an_ai_reply(sandbox: AiSandboxClient, make_ai: MakeAi) -> None:
    sandbox.script([{"reply": GOOD}])
    reply = make_ai().suggest(make_request())
    assert reply == AiReply.model_validate(GOOD)
    assert validate_reply(reply, make_request(), [text for _, text in HISTORY], TENANT) is None
    assert len(sandbox.requests()) == 1


def test_the_request_carries_the_schema_and_no_personal_data(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    sandbox.script([{"reply": GOOD}])
    make_ai().suggest(make_request())
    (record,) = sandbox.requests()
    assert record["path"] == "/v1/chat/completions"
    assert record["authorized"] is True
    body = record["json"]
    assert body["model"] == "gpt-4o-test"
    assert body["temperature"] == 0.2
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    enum = fmt["json_schema"]["schema"]["properties"]["next_state"]["enum"]
    assert enum == ["waiting_user", "handoff", "triage"]
    sent = json.dumps(body, ensure_ascii=False)
    assert "98765" not in sent and "4321" not in sent
    assert body["messages"][1] == {
        "role": "user", "content": "Oi! Meu número é [phone], pode me ligar?",
    }  # fmt: skip
    assert body["messages"][-1]["content"] == "Quero saber do meu pedido"


@pytest.mark.parametrize("content", ["Claro, vou verificar!", '{"reply": "oi"}', ""])
def test_output_that_is_not_an_ai_reply_is_invalid_output(
    sandbox: AiSandboxClient, make_ai: MakeAi, content: str
) -> None:
    sandbox.script([{"content": content}])
    assert failure(make_ai()) == "invalid_output"
    assert len(sandbox.requests()) == 1  # the endpoint answered: no retry


def test_a_forbidden_transition_comes_back_and_validation_rejects_it(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    sandbox.script([{"reply": {**GOOD, "next_state": "closed"}}])
    request = make_request()
    reply = make_ai().suggest(request)
    assert reply.next_state == "closed"
    assert validate_reply(reply, request, [], TENANT) == "forbidden_transition"


def test_a_prohibited_promise_is_rejected(sandbox: AiSandboxClient, make_ai: MakeAi) -> None:
    sandbox.script([{"reply": {**GOOD, "reply": "Garantimos o reembolso total!"}}])
    request = make_request()
    reply = make_ai().suggest(request)
    assert validate_reply(reply, request, [], TENANT) == "prohibited_promise"


def test_slower_than_the_timeout_fails_after_exactly_two_attempts(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    sandbox.script([{"delay": 1.5, "reply": GOOD}] * 2 + [{"reply": GOOD}])
    started = time.monotonic()
    assert failure(make_ai(timeout=0.4)) == "timeout"
    assert time.monotonic() - started < 3.0  # gave up; did not wait for the slow answers
    assert len(sandbox.requests()) == 2


def test_a_500_then_a_good_answer_succeeds_on_the_retry(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    sandbox.script([{"status": 500}, {"reply": GOOD}])
    assert make_ai().suggest(make_request()) == AiReply.model_validate(GOOD)
    assert [r["status"] for r in sandbox.requests()] == [500, 200]


def test_two_500s_are_http_5xx(sandbox: AiSandboxClient, make_ai: MakeAi) -> None:
    sandbox.script([{"status": 500}, {"status": 503}, {"reply": GOOD}])
    assert failure(make_ai()) == "http_5xx"
    assert [r["status"] for r in sandbox.requests()] == [500, 503]


def test_two_429s_are_rate_limited_without_honouring_a_long_retry_after(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    sandbox.script([{"status": 429, "retry_after": 60}] * 2)
    started = time.monotonic()
    assert failure(make_ai()) == "rate_limited"
    assert time.monotonic() - started < 5.0
    assert len(sandbox.requests()) == 2


def test_a_wrong_key_is_http_4xx_and_not_retried(sandbox: AiSandboxClient, make_ai: MakeAi) -> None:
    assert failure(make_ai(api_key="sk-wrong")) == "http_4xx"
    (record,) = sandbox.requests()
    assert record["authorized"] is False and record["status"] == 401


def test_nothing_listening_is_unreachable(make_ai: MakeAi) -> None:
    ai = make_ai(base_url=f"http://127.0.0.1:{free_port()}/v1")
    assert failure(ai) == "unreachable"


def test_the_breaker_opens_after_fail_max_failed_calls_then_fails_fast(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    ai = make_ai(fail_max=2, reset=1.0)
    sandbox.script([{"status": 500}] * 4 + [{"reply": GOOD}])
    assert failure(ai) == "http_5xx"
    assert failure(ai) == "http_5xx"
    assert len(sandbox.requests()) == 4
    assert failure(ai) == "breaker_open"
    assert len(sandbox.requests()) == 4  # no request went out
    # Other instances have their own breaker.
    assert make_ai().suggest(make_request()) == AiReply.model_validate(GOOD)
    time.sleep(1.1)  # the reset timeout passes: one trial call goes through
    sandbox.script([{"reply": GOOD}])
    assert ai.suggest(make_request()) == AiReply.model_validate(GOOD)


def test_invalid_output_does_not_open_the_breaker(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    ai = make_ai(fail_max=1)
    sandbox.script([{"content": "not json"}, {"content": "not json"}, {"reply": GOOD}])
    assert failure(ai) == "invalid_output"
    assert failure(ai) == "invalid_output"
    assert ai.suggest(make_request()) == AiReply.model_validate(GOOD)


def test_each_failed_call_logs_one_warning_without_text(
    sandbox: AiSandboxClient, make_ai: MakeAi, caplog: pytest.LogCaptureFixture
) -> None:
    ai = make_ai(fail_max=1)
    sandbox.script([{"status": 500}, {"status": 500}])
    with caplog.at_level(logging.WARNING, logger="atende.adapters.openai_client"):
        failure(ai)
        failure(ai)
    warnings = [r for r in caplog.records if r.name == "atende.adapters.openai_client"]
    assert [r.levelno for r in warnings] == [logging.WARNING] * 2
    assert [r.json_fields for r in warnings] == [  # type: ignore[attr-defined]
        {"reason": "http_5xx", "attempts": 2},
        {"reason": "breaker_open", "attempts": 0},
    ]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "pedido" not in logged and "98765" not in logged


def test_concurrent_calls_are_not_serialized_by_the_breaker(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    ai = make_ai(timeout=3.0)
    sandbox.script([{"delay": 0.8, "reply": GOOD}] * 2)
    replies: list[AiReply] = []
    threads = [
        threading.Thread(target=lambda: replies.append(ai.suggest(make_request())))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(replies) == 2
    first, second = sorted(r["time"] for r in sandbox.requests())
    assert second - first < 0.6  # the second went out while the first was still held


def test_with_an_empty_script_the_sandbox_answers_like_a_small_model(
    sandbox: AiSandboxClient, make_ai: MakeAi
) -> None:
    ai = make_ai()
    request = make_request()
    reply = ai.suggest(request)
    assert reply.reply.startswith("(IA local) ")
    assert (reply.next_state, reply.handoff, reply.confidence) == ("waiting_user", False, 0.9)
    assert validate_reply(reply, request, [], TENANT) is None
    collecting = make_request(allowed=("collecting", "handoff"))
    assert ai.suggest(collecting).next_state == "collecting"


def test_the_sandbox_refuses_a_malformed_script(sandbox: AiSandboxClient) -> None:
    for bad in ({"steps": []}, [{"status": "500"}], [{"reply": "text"}], [{"surprise": 1}]):
        response = requests.post(f"{sandbox.base_url}/_script", json=bad, timeout=5)
        assert response.status_code == 400
    sandbox.script([{"status": 500}])
    requests.delete(f"{sandbox.base_url}/_script", timeout=5).raise_for_status()
    models = requests.get(f"{sandbox.openai_base_url}/models", timeout=5).json()
    assert models["data"][0]["id"] == "atende-local"


def test_runs_as_a_module_on_loopback(tmp_path: Path, make_ai: MakeAi) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "atende.devstack.ai_sandbox", "--port", str(port)]
    with ManagedProcess("ai-sandbox", argv, dict(os.environ), tmp_path / "ai.log") as process:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/v1/models", 20, process)
        ai = make_ai(base_url=f"{url}/v1", api_key="any-key-will-do")
        assert ai.suggest(make_request()).reply.startswith("(IA local) ")
        assert len(AiSandboxClient(url).requests()) == 1
