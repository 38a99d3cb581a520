"""`atende simulate <channel>`: sign and post a realistic delivery to the running stack, then
show what the stack sent to the provider sandbox.

Each channel's `sample` module builds its delivery (`simulated_delivery`, `signed_headers`);
a calendar channel's `simulate` drives its local calendar server instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from atende.adapters.env_secrets import EnvSecretSource
from atende.channels.base import SimulatedDelivery
from atende.channels.registry import plugin
from atende.cli.stack_env import load_stack_env
from atende.devstack.sandbox import SandboxClient
from atende.errors import ConfigurationError
from atende.observability.redaction import redact

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
    except ConfigurationError as error:
        print(f"{error} (copy .env.example to .env, or run `make dev`).")
        return 2


def _delivery(sample: Any, args: argparse.Namespace) -> SimulatedDelivery:
    secrets = EnvSecretSource()
    if args.payload:
        body = Path(args.payload).read_bytes()
        return SimulatedDelivery(body=body, headers=sample.signed_headers(body, secrets))
    delivery: SimulatedDelivery = sample.simulated_delivery(args.text, args.contact, secrets)
    return delivery


def reply_text(payload: dict[str, Any]) -> str | None:
    """The text of an outbound request, whatever the provider calls it."""
    for path in (("text", "body"), ("message", "text"), ("content",), ("message",)):
        value: Any = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return None


def recipient(request: dict[str, Any]) -> str:
    """Who an outbound request is for: the contact where the body says, else its path."""
    payload = request.get("json")
    if isinstance(payload, dict):
        if isinstance(payload.get("to"), str):
            return str(payload["to"])
        target = payload.get("recipient")
        if isinstance(target, dict) and target:
            return str(next(iter(target.values())))
    # A path can hold a credential (a Discord interaction token): masked like in the logs.
    masked = redact(str(request.get("path", "")))
    return f"{request.get('provider', '')} follow-up" if masked == "[token]" else masked


def _sends(channel: str, sample: Any) -> bool:
    """Whether the simulated delivery gets an answer: not on a channel that sends nothing,
    nor where it is a comment (an agent answers those, never the bot)."""
    sends = plugin(channel).provider_api is not None
    return sends and getattr(sample, "EXPECTS_REPLY", True)


def _simulate(args: argparse.Namespace) -> int:
    sample = importlib.import_module(f"atende.channels.{args.channel}.sample")
    sandbox = SandboxClient(os.environ.get("ATENDE_SANDBOX_URL", DEFAULT_SANDBOX).rstrip("/"))
    seen = len(sandbox.requests())
    if hasattr(sample, "simulate") and not args.payload:
        accepted = sample.simulate(args.text, args.contact) == 0
        status = 200 if accepted else 500
        response_text = "the calendar changed and its webhook or poll job took it"
    else:
        base = os.environ.get("ATENDE_FUNCTIONS_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
        delivery = _delivery(sample, args)
        response = requests.request(
            delivery.method,
            f"{base}/{args.channel}_webhook",
            data=delivery.body,
            headers=delivery.headers,
            params=delivery.query,
            timeout=30,
        )
        status, accepted = response.status_code, response.status_code < 300
        response_text = f"{response.status_code} {response.text}"
    # A channel with no provider API (YouTube, TikTok, the calendars' own channel) answers
    # nothing itself; a calendar notice goes out on the contact's messaging channel.
    answers = hasattr(sample, "simulate") or _sends(args.channel, sample)
    outbound = wait_for_outbound(
        sandbox, seen, args.timeout, expect_some=accepted and answers and not args.payload
    )
    if args.json:
        report = {
            "status": status,
            "response": response_text,
            "outbound": [r.get("json") for r in outbound],
        }
        print(json.dumps(report, ensure_ascii=False))
        return 0 if accepted else 1
    print(f"webhook answered {response_text}")
    for request in outbound:
        payload = request.get("json") or {}
        text = reply_text(payload) if isinstance(payload, dict) else None
        print(f"bot → {recipient(request)}: {text if text is not None else json.dumps(payload)}")
    if accepted and answers and not outbound and not args.payload:
        if hasattr(sample, "simulate"):
            print("no notice reached the sandbox: the contact needs a conversation first "
                  f"(atende simulate whatsapp --from {args.contact})")  # fmt: skip
        else:
            print("no reply reached the sandbox (a conversation waiting for a person is silent)")
        return 1
    return 0 if accepted else 1
