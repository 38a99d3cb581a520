"""A local OpenAI-compatible endpoint for dev and tests, on 127.0.0.1 only.

    python -m atende.devstack.ai_sandbox --port 8091 [--api-key KEY]

`POST /v1/chat/completions` (or `/chat/completions`) records the request body and answers
like the Chat Completions API: with the next scripted step if there is one, else as a tiny
deterministic "model" (so `make dev` has an AI without a key or the internet): a short reply
starting with "(IA local) ", `next_state` "waiting_user" when allowed (else the first allowed
state), no handoff, confidence 0.9. With `--api-key`, other keys get a 401.

A step (see `AiSandboxClient.script`) is one of `{"reply": {AiReply fields}}`, `{"content":
"raw text"}` or `{"status": 500}` (an OpenAI-style error, with `"retry_after": seconds` as a
header if given), optionally with `"delay": seconds` to hold the answer. `GET /_requests`
returns the recorded requests, `DELETE /_requests` forgets them, `POST /_script` queues
steps, `DELETE /_script` drops those not used yet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Final

import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atende.ai.prompt import ALLOWED_STATES_LABEL
from atende.devstack.processes import serve_in_thread

JsonDict = dict[str, Any]

LOCAL_MODEL: Final = "atende-local"
LOCAL_REPLY: Final = (
    "(IA local) Obrigada pela mensagem! Posso ajudar com mais detalhes ou, se preferir, "
    "chamar uma pessoa da equipe."
)
_STEP_KEYS: Final = frozenset({"reply", "content", "status", "delay", "retry_after"})
_ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error(status: int, message: str | None = None) -> JsonDict:
    """The error body the OpenAI API sends with a 4xx or 5xx status."""
    return {
        "error": {
            "message": message or f"The AI sandbox answered {status} as scripted.",
            "type": _ERROR_TYPES.get(status, "server_error"),
            "param": None,
            "code": "rate_limit_exceeded" if status == 429 else None,
        }
    }


def allowed_states(body: Any) -> list[str]:
    """The states a reply may move to, read from the request like a model would: the
    response format's `next_state` enum, else the system prompt's line naming them."""
    if not isinstance(body, dict):
        return []
    with contextlib.suppress(AttributeError, KeyError, TypeError):
        schema = body["response_format"]["json_schema"]["schema"]
        enum = schema["properties"]["next_state"]["enum"]
        if isinstance(enum, list) and all(isinstance(state, str) for state in enum):
            return list(enum)
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "system":
            content = message.get("content")
            if not isinstance(content, str):
                continue
            found = re.search(re.escape(ALLOWED_STATES_LABEL) + r"[ \t]*(.*)", content)
            if found:
                return re.findall(r"[A-Za-z0-9_.:-]+", found.group(1).split("(")[0])
    return []


def local_reply(body: Any) -> JsonDict:
    """The deterministic "model": a valid reply that keeps the conversation going."""
    states = allowed_states(body)
    next_state = "waiting_user" if "waiting_user" in states or not states else states[0]
    return {"reply": LOCAL_REPLY, "next_state": next_state, "handoff": False, "confidence": 0.9}


def completion(body: Any, content: str, number: int) -> JsonDict:
    """A chat completion as the API returns it, so the real client parses it."""
    model = body.get("model") if isinstance(body, dict) else None
    prompt_chars = len(json.dumps(body.get("messages", []))) if isinstance(body, dict) else 0
    prompt_tokens, completion_tokens = prompt_chars // 4 + 1, len(content) // 4 + 1
    return {
        "id": f"chatcmpl-sandbox-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model if isinstance(model, str) else LOCAL_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _invalid_step(step: Any) -> str | None:
    if not isinstance(step, dict) or not step.keys() <= _STEP_KEYS:
        return f"a step is an object with keys among {sorted(_STEP_KEYS)}"
    if "reply" in step and not isinstance(step["reply"], dict):
        return "reply must be an object"
    if "content" in step and not isinstance(step["content"], str):
        return "content must be a string"
    if "status" in step and (not isinstance(step["status"], int) or step["status"] < 100):
        return "status must be an HTTP status code"
    for key in ("delay", "retry_after"):
        if key in step and (not isinstance(step[key], int | float) or step[key] < 0):
            return f"{key} must be a number of seconds"
    return None


class AiSandboxState:
    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.lock = asyncio.Lock()
        self.requests: list[JsonDict] = []
        self.script: deque[JsonDict] = deque()
        self.completions = 0


def create_app(api_key: str | None = None) -> Starlette:
    """The sandbox as an ASGI app; `api_key` None accepts any key."""
    state = AiSandboxState(api_key)

    def answer(step: JsonDict, body: Any) -> tuple[int, JsonDict, dict[str, str]]:
        status = int(step.get("status", 200))
        if status >= 400:
            headers: dict[str, str] = {}
            if "retry_after" in step:
                headers["retry-after"] = str(step["retry_after"])
            return status, openai_error(status), headers
        if "content" in step:
            content = str(step["content"])
        else:
            content = json.dumps(step.get("reply") or local_reply(body), ensure_ascii=False)
        state.completions += 1
        return status, completion(body, content, state.completions), {}

    async def chat_completions(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        authorized = state.api_key is None or secrets.compare_digest(
            request.headers.get("authorization", "").encode(),
            f"Bearer {state.api_key}".encode(),
        )
        async with state.lock:
            record: JsonDict = {
                "index": len(state.requests),
                "time": time.time(),
                "path": request.url.path,
                "json": body,
                "authorized": authorized,
            }
            state.requests.append(record)
            step = state.script.popleft() if authorized and state.script else {}
            headers: dict[str, str] = {}
            if not authorized:
                status, payload = 401, openai_error(401, "Incorrect API key.")
            elif not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                status, payload = 400, openai_error(400, "messages is required.")
            else:
                status, payload, headers = answer(step, body)
            record["status"] = status
        delay = float(step.get("delay", 0))
        if delay > 0:
            await asyncio.sleep(delay)
        return JSONResponse(payload, status_code=status, headers=headers)

    async def models(request: Request) -> JSONResponse:
        entry = {"id": LOCAL_MODEL, "object": "model", "created": 0, "owned_by": "atende"}
        return JSONResponse({"object": "list", "data": [entry]})

    async def list_requests(request: Request) -> JSONResponse:
        async with state.lock:
            return JSONResponse({"requests": list(state.requests)})

    async def clear_requests(request: Request) -> JSONResponse:
        async with state.lock:
            state.requests.clear()
        return JSONResponse({"cleared": True})

    async def add_script(request: Request) -> JSONResponse:
        try:
            steps = await request.json()
        except ValueError:
            steps = None
        if not isinstance(steps, list):
            return JSONResponse({"error": "expected a JSON list of steps"}, 400)
        for step in steps:
            if (problem := _invalid_step(step)) is not None:
                return JSONResponse({"error": problem}, 400)
        async with state.lock:
            state.script.extend(steps)
            queued = len(state.script)
        return JSONResponse({"queued": queued})

    async def clear_script(request: Request) -> JSONResponse:
        async with state.lock:
            state.script.clear()
        return JSONResponse({"cleared": True})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/models", models, methods=["GET"]),
            Route("/_requests", list_requests, methods=["GET"]),
            Route("/_requests", clear_requests, methods=["DELETE"]),
            Route("/_script", add_script, methods=["POST"]),
            Route("/_script", clear_script, methods=["DELETE"]),
        ]
    )


class AiSandboxClient:
    """Drives a running AI sandbox: `AiSandboxClient("http://127.0.0.1:8091")`."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @property
    def openai_base_url(self) -> str:
        """What to give the OpenAI client (`ATENDE_AI_BASE_URL`)."""
        return f"{self.base_url}/v1"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        with requests.Session() as session:
            session.trust_env = False  # loopback: never through a proxy
            response = session.request(
                method, f"{self.base_url}{path}", json=body, timeout=self.timeout
            )
            response.raise_for_status()
            return response.json()

    def requests(self) -> list[JsonDict]:
        """Every completion request since the last clear, oldest first, with its `json` body."""
        recorded: list[JsonDict] = self._call("GET", "/_requests")["requests"]
        return recorded

    def bodies(self) -> list[JsonDict]:
        return [record["json"] for record in self.requests()]

    def script(self, steps: list[JsonDict]) -> None:
        """Queue answers, one per completion request (see the module docstring)."""
        self._call("POST", "/_script", steps)

    def clear(self) -> None:
        """Forget recorded requests and drop the steps not used yet."""
        self._call("DELETE", "/_requests")
        self._call("DELETE", "/_script")


@contextlib.contextmanager
def serve_ai_sandbox(
    api_key: str | None = None, port: int | None = None
) -> Iterator[AiSandboxClient]:
    """Serve a fresh sandbox in a thread of this process (for tests); yields its client."""
    with serve_in_thread(create_app(api_key), port=port) as url:
        yield AiSandboxClient(url)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="OpenAI-compatible AI sandbox")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.api_key), host="127.0.0.1", port=args.port,
                log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
