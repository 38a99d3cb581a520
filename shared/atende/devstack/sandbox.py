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
    """Why `body` is not a Cloud API or Send API message (None if it is one)."""
    if not isinstance(body, dict):
        return "(#100) The request body must be a JSON object."
    if "recipient" in body:  # Messenger / Instagram Send API
        if not isinstance(body["recipient"], dict) or not body["recipient"]:
            return "(#100) The parameter recipient is required."
        if "message" not in body and "sender_action" not in body:
            return "(#100) The parameter message is required."
        return None
    if body.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required."
    if not isinstance(body.get("to"), str) or not body["to"]:
        return "(#100) The parameter to is required."
    return None


def _accepted(state: SandboxState, body: Any) -> JsonDict:
    """The Graph API's answer to an accepted message, with the next sandbox message id."""
    state.sent += 1
    if isinstance(body, dict) and isinstance(body.get("recipient"), dict):
        recipient = body["recipient"].get("id") or body["recipient"].get("comment_id", "")
        return {"recipient_id": recipient, "message_id": f"m_sandbox.{state.sent}"}
    to = body.get("to", "") if isinstance(body, dict) else ""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": f"wamid.sandbox.{state.sent}"}],
    }


def _generic_accepted(state: SandboxState) -> JsonDict:
    """Any other provider's answer to an accepted call: an id, under the names they use."""
    state.sent += 1
    return {"id": f"sandbox.{state.sent}", "message_id": f"sandbox.{state.sent}"}


class SandboxState:
    def __init__(self, access_token: str) -> None:
        #: Accepted bearer tokens: the WhatsApp one, and others given with `--token`.
        self.tokens = {access_token}
        self.access_token = access_token
        self.lock = asyncio.Lock()
        self.requests: list[JsonDict] = []
        self.script: deque[JsonDict] = deque()
        self.sent = 0


def _authorized(state: SandboxState, request: Request) -> bool:
    given = request.headers.get("authorization", "").encode()
    return any(secrets.compare_digest(given, f"Bearer {t}".encode()) for t in state.tokens)


def create_app(access_token: str) -> Starlette:
    state = SandboxState(access_token)

    async def messages(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        authorized = _authorized(state, request)
        delay = 0.0
        async with state.lock:
            record: JsonDict = {
                "index": len(state.requests),
                "time": time.time(),
                "path": request.url.path,
                "method": request.method,
                "provider": "graph",
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

    async def other_provider(request: Request) -> JSONResponse:
        """Any other provider's API under `/<provider>/...`: recorded, answered from the
        script or with an id (the channel's tests script the exact documented answers)."""
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        delay = 0.0
        async with state.lock:
            record: JsonDict = {
                "index": len(state.requests),
                "time": time.time(),
                "path": request.url.path,
                "method": request.method,
                "provider": request.path_params["provider"],
                "query": dict(request.query_params),
                "headers": {k: v for k, v in request.headers.items() if k != "authorization"},
                "json": body,
                "authorized": _authorized(state, request),
            }
            state.requests.append(record)
            if state.script:
                step = state.script.popleft()
                status = int(step.get("status", 200))
                delay = float(step.get("delay_seconds", 0))
                answer = step.get("body", _generic_accepted(state) if status < 300 else {})
            else:
                status, answer = 200, _generic_accepted(state)
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
            Route(
                "/{provider}/{rest:path}",
                other_provider,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
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
