"""`atende simulate whatsapp`: sign and post a delivery, then show what reached the sandbox."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.whatsapp import sample
from atende.channels.whatsapp.settings import APP_SECRET
from atende.cli.stack_env import load_stack_env
from atende.devstack.sandbox import SandboxClient

DEFAULT_SANDBOX = "http://127.0.0.1:8089"
#: The sandbox is quiet this long before we call the replies complete.
QUIET_SECONDS = 2.0


def wait_for_outbound(
    sandbox: SandboxClient, seen: int, timeout: float, expect_some: bool
) -> list[dict[str, Any]]:
    """Requests after the first `seen`, once they stop coming (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    last_count, last_change = seen, time.monotonic()
    while time.monotonic() < deadline:
        current = sandbox.requests()
        if len(current) != last_count:
            last_count, last_change = len(current), time.monotonic()
        quiet = time.monotonic() - last_change >= QUIET_SECONDS
        if quiet and (len(current) > seen or not expect_some):
            return current[seen:]
        time.sleep(0.2)
    return sandbox.requests()[seen:]


def run_simulate(args: argparse.Namespace) -> int:
    load_stack_env()
    try:
        return _simulate(args)
    except requests.ConnectionError as error:
        print(f"cannot reach the local stack ({error.request.url if error.request else ''}):")
        print("is `make dev` running in another terminal?")
        return 2


def _simulate(args: argparse.Namespace) -> int:
    secret = EnvSecretSource().get(APP_SECRET)
    if not secret:
        print(f"{APP_SECRET} is not set (copy .env.example to .env, or run `make dev`).")
        return 2
    base = os.environ.get("ATENDE_FUNCTIONS_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
    sandbox = SandboxClient(os.environ.get("ATENDE_SANDBOX_URL", DEFAULT_SANDBOX).rstrip("/"))
    if args.payload:
        body = Path(args.payload).read_bytes()
    else:
        body = sample.encode(sample.delivery([sample.text_message(args.contact, args.text)]))
    seen = len(sandbox.requests())
    response = requests.post(
        f"{base}/whatsapp_webhook",
        data=body,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": sample.signature_for(body, secret),
        },
        timeout=30,
    )
    accepted = response.status_code == 200
    outbound = wait_for_outbound(
        sandbox, seen, args.timeout, expect_some=accepted and not args.payload
    )
    if args.json:
        print(
            json.dumps(
                {
                    "status": response.status_code,
                    "response": response.text,
                    "outbound": [request["json"] for request in outbound],
                },
                ensure_ascii=False,
            )
        )
        return 0 if accepted else 1
    print(f"webhook answered {response.status_code} {response.text}")
    for request in outbound:
        payload = request.get("json") or {}
        text = (payload.get("text") or {}).get("body")
        print(f"bot → {payload.get('to')}: {text if text is not None else json.dumps(payload)}")
    if accepted and not outbound and not args.payload:
        print("no reply reached the sandbox (a session in handoff stays silent)")
        return 1
    return 0 if accepted else 1
