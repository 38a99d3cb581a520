"""A provider sandbox standing in for the WhatsApp Cloud (Graph) API.

    python -m atende.devstack.sandbox --port 8089 --access-token TOKEN

`POST /graph/{version}/{phone_number_id}/messages` records every request and answers like
the Graph API: 401 (OAuthException, code 190) unless `Authorization: Bearer TOKEN`; else the
next scripted response, if any; else 400 (code 100) for a body that is not a WhatsApp message;
else 200 with a `wamid.sandbox.<n>` message id. Tests drive it through `/_sandbox/*` (see
`SandboxClient`): read or clear the recorded requests, queue scripted responses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from collections import deque
from typing import Any

import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JsonDict = dict[str, Any]


def graph_error(message: str, code: int, error_type: str = "OAuthException") -> JsonDict:
    return {
        "error": {
            "message": message,
            "type": error_type,
            "code": code,
            "fbtrace_id": f"Sandbox{secrets.token_hex(8)}",
        }
    }


def _invalid_message(body: Any) -> str | None:
    """Why `body` is not a Cloud API message (None if it is one)."""
    if not isinstance(body, dict):
        return "(#100) The request body must be a JSON object."
    if body.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required."
    if not isinstance(body.get("to"), str) or not body["to"]:
        return "(#100) The parameter to is required."
    return None


def _accepted(state: SandboxState, body: Any) -> JsonDict:
    """The Graph API's answer to an accepted message, with the next sandbox message id."""
    state.sent += 1
    to = body.get("to", "") if isinstance(body, dict) else ""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": f"wamid.sandbox.{state.sent}"}],
    }


class SandboxState:
    def __init__(self, access_token: str) -> None:
        self.access_token = access_token
        self.lock = asyncio.Lock()
        self.requests: list[JsonDict] = []
        self.script: deque[JsonDict] = deque()
        self.sent = 0


def create_app(access_token: str) -> Starlette:
    state = SandboxState(access_token)

    async def messages(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        authorized = secrets.compare_digest(
            request.headers.get("authorization", "").encode(),
            f"Bearer {state.access_token}".encode(),
        )
        delay = 0.0
        async with state.lock:
            record: JsonDict = {
                "index": len(state.requests),
                "time": time.time(),
                "path": request.url.path,
                "method": request.method,
                "phone_number_id": request.path_params["phone_number_id"],
                "json": body,
                "authorized": authorized,
            }
            state.requests.append(record)
            if not authorized:
                status, answer = 401, graph_error("Invalid OAuth access token.", 190)
            elif state.script:
                step = state.script.popleft()
                status = int(step.get("status", 200))
                delay = float(step.get("delay_seconds", 0))
                default = _accepted(state, body) if status < 300 else {}
                answer = step.get("body", default)
            elif (problem := _invalid_message(body)) is not None:
                status, answer = 400, graph_error(problem, 100)
            else:
                status, answer = 200, _accepted(state, body)
            record["status"] = status
        if delay > 0:
            await asyncio.sleep(delay)
        return JSONResponse(answer, status_code=status)

    async def list_requests(request: Request) -> JSONResponse:
        async with state.lock:
            return JSONResponse({"requests": list(state.requests)})

    async def clear(request: Request) -> JSONResponse:
        async with state.lock:
            state.requests.clear()
            state.script.clear()
        return JSONResponse({"cleared": True})

    async def script(request: Request) -> JSONResponse:
        payload = await request.json()
        steps = payload.get("responses") if isinstance(payload, dict) else None
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            return JSONResponse({"error": "expected {'responses': [{...}, ...]}"}, 400)
        async with state.lock:
            state.script.extend(steps)
            queued = len(state.script)
        return JSONResponse({"queued": queued})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/graph/{version}/{phone_number_id}/messages", messages, methods=["POST"]),
            Route("/_sandbox/requests", list_requests, methods=["GET"]),
            Route("/_sandbox/requests", clear, methods=["DELETE"]),
            Route("/_sandbox/script", script, methods=["POST"]),
            Route("/_sandbox/health", health, methods=["GET"]),
        ]
    )


class SandboxClient:
    """Drives a running sandbox: `SandboxClient("http://127.0.0.1:8089")`."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: JsonDict | None = None) -> JsonDict:
        with requests.Session() as session:
            session.trust_env = False  # loopback: never through a proxy
            response = session.request(
                method, f"{self.base_url}{path}", json=body, timeout=self.timeout
            )
            response.raise_for_status()
            answer: JsonDict = response.json()
            return answer

    def requests(self) -> list[JsonDict]:
        """Every messages request recorded since the last clear(), oldest first."""
        recorded: list[JsonDict] = self._call("GET", "/_sandbox/requests")["requests"]
        return recorded

    def clear(self) -> None:
        """Forget the recorded requests and any scripted responses not used yet."""
        self._call("DELETE", "/_sandbox/requests")

    def script(self, responses: list[JsonDict]) -> None:
        """Queue responses ({"status", "body", "delay_seconds"}), one per messages request."""
        self._call("POST", "/_sandbox/script", {"responses": responses})

    def health(self) -> bool:
        return self._call("GET", "/_sandbox/health").get("status") == "ok"

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> list[JsonDict]:
        """Wait until at least `n` requests were recorded; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            recorded = self.requests()
            if len(recorded) >= n:
                return recorded
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox got {len(recorded)} request(s), not {n}")
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="WhatsApp Graph API sandbox")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-token", required=True)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.access_token), host="127.0.0.1", port=args.port,
                log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
