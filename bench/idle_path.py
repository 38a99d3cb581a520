"""The idle path (issue 12): how long one contact waits for a reply when nothing else is going
on. Run on benchmark 3's stack after its load has settled: 20 new contacts, one at a time,
each sends one question; each time, from the webhook's 200 to the reply reaching the sandbox.

Processing holds every message for `answer_hold_seconds` before answering it (so messages a
contact sent together are answered in the order written), so the figure is judged against
the hold: the rest is what the stack itself adds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from atende.channels.whatsapp import sample
from atende.config import Settings
from atende.devstack.sandbox import SandboxClient
from atende.devstack.tasks_emulator import TasksEmulator
from atende.domain import keys
from bench import deliveries
from bench.report import Figure
from bench.stats import percentile

MESSAGES = 20
TEXT = "qual o horário de vocês?"
#: What the stack may add to the hold, on this machine.
MARGIN_SECONDS = 0.3
#: How often the sandbox is asked; the arrival time is the sandbox's own record of it, so
#: this bounds only how soon the next message goes, not the figure's precision.
POLL_SECONDS = 0.01
#: The sandbox is first asked this long before the hold ends.
HOLD_QUIET_MARGIN = 0.1
#: A task due within this many seconds is work in flight; one due later is a timer.
IN_FLIGHT_HORIZON = 60.0
SETTLE_POLL_SECONDS = 0.05
#: Unanswered messages after which the rest are not sent.
GIVE_UP_AFTER = 3
#: The idle contacts' numbers start here, far from benchmark 3's load (5521000000000…).
FIRST_CONTACT = 5521900000000


@dataclass
class IdlePathResult:
    hold: float
    #: Seconds from each webhook 200 to its reply's arrival at the sandbox, in sending order.
    latencies: list[float]
    messages: int
    #: Whether every queue had drained before each message (else the stack was not idle).
    settled: bool = True
    unanswered: list[str] = field(default_factory=list)

    @property
    def target(self) -> float:
        return self.hold + MARGIN_SECONDS

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q) if self.latencies else math.nan

    @property
    def passed(self) -> bool:
        return (
            len(self.latencies) == self.messages
            and self.settled
            and self.percentile(0.5) <= self.target
            and self.percentile(0.95) <= self.target
        )


def answer_hold(env: Mapping[str, str]) -> float:
    """The hold the benchmarked functions run with: their environment's
    ATENDE_ANSWER_HOLD_SECONDS, else the setting's default (they read no .env: their working
    directory is the benchmark's)."""
    raw = env.get("ATENDE_ANSWER_HOLD_SECONDS")
    default = Settings.model_fields["answer_hold_seconds"].default
    return float(raw) if raw is not None else float(default)


def arrival_of(received: list[dict[str, Any]], outbox_id: str) -> float | None:
    """When the sandbox recorded the first request carrying this outbox id, if it has."""
    for record in received:
        if (record.get("json") or {}).get("biz_opaque_callback_data") == outbox_id:
            return float(record["time"])
    return None


def in_flight(tasks: list[Any], now: datetime) -> int:
    """The listed tasks that are work in flight: running, due, awaiting a retry or scheduled
    within IN_FLIGHT_HORIZON (an answer held for the hold). A timer further out, such as a
    session's inactivity close half an hour away, is not: the stack is idle until it fires."""
    horizon = now + timedelta(seconds=IN_FLIGHT_HORIZON)
    return sum(1 for task in tasks if not task.schedule_time or task.schedule_time <= horizon)


def _settle(tasks: TasksEmulator, queues: list[str], timeout: float) -> bool:
    """Wait until no queue has work in flight (the emulator lists running tasks too), so
    nothing but the next message is being handled; False if that took over `timeout`."""
    deadline = time.monotonic() + timeout
    paths = [tasks.queue_path(queue) for queue in queues]
    while any(in_flight(tasks.list_tasks(path), datetime.now(UTC)) for path in paths):
        if time.monotonic() > deadline:
            return False
        time.sleep(SETTLE_POLL_SECONDS)
    return True


def run(
    webhook_url: str, sandbox: SandboxClient, tasks: TasksEmulator, queues: list[str], *,
    tenant: str, hold: float, timeout: float = 30.0,
) -> IdlePathResult:  # fmt: skip
    """Send the messages one by one, each once the stack is idle; the sandbox is cleared
    first, so each poll reads only this run's few requests."""
    settled = _settle(tasks, queues, timeout=120.0)
    sandbox.clear()
    latencies: list[float] = []
    unanswered: list[str] = []
    with requests.Session() as http:
        http.trust_env = False  # loopback: never through a proxy
        for n in range(MESSAGES):
            contact = str(FIRST_CONTACT + n)
            message_id = f"wamid.bench.idle.{n}"
            outbox_id = keys.outbox_id(
                tenant, keys.session_id(tenant, "whatsapp", contact), message_id, 0
            )
            settled = _settle(tasks, queues, timeout) and settled
            message = sample.text_message(
                contact, TEXT, message_id=message_id, timestamp=int(time.time())
            )
            body = sample.encode(sample.delivery([message]))
            response = http.post(
                webhook_url, data=body, headers=deliveries.headers(body), timeout=30
            )
            accepted_at = time.time()
            if response.status_code != 200:
                raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")
            # Nothing can arrive within the hold: polling then would only take CPU from the
            # stack being timed (the arrival time is the sandbox's, whenever it is read).
            time.sleep(max(0.0, hold - HOLD_QUIET_MARGIN))
            deadline = time.monotonic() + timeout
            while (arrived := arrival_of(sandbox.requests(), outbox_id)) is None:
                if time.monotonic() > deadline:
                    unanswered.append(message_id)
                    break
                time.sleep(POLL_SECONDS)
            if arrived is not None:
                latencies.append(arrived - accepted_at)
            elif len(unanswered) >= GIVE_UP_AFTER:
                break  # the stack is broken, not slow: the figure fails either way
    return IdlePathResult(
        hold=hold, latencies=latencies, messages=MESSAGES, settled=settled, unanswered=unanswered
    )


def summary(result: IdlePathResult) -> dict[str, object]:
    return {
        "messages": result.messages,
        "answered": len(result.latencies),
        "answer_hold_s": result.hold,
        "median_s": round(result.percentile(0.5), 3),
        "p95_s": round(result.percentile(0.95), 3),
        "max_s": round(max(result.latencies, default=math.nan), 3),
        "target_s": round(result.target, 3),
        "settled_before_each": result.settled,
        "unanswered": result.unanswered,
        "latencies_s": [round(latency, 3) for latency in result.latencies],
    }


def figures(result: IdlePathResult) -> list[Figure]:
    median, p95 = result.percentile(0.5), result.percentile(0.95)
    notes = [f"{len(result.latencies)}/{result.messages} answered, one at a time"]
    if result.latencies:
        notes.append(
            f"beyond the hold: median {(median - result.hold) * 1000:.0f} ms, "
            f"p95 {(p95 - result.hold) * 1000:.0f} ms, "
            f"max {(max(result.latencies) - result.hold) * 1000:.0f} ms"
        )
    if not result.settled:
        notes.append("the queues had not drained before every message: not an idle stack")
    return [
        Figure(
            "3. idle path 200 -> reply",
            f"median {median:.2f} s, p95 {p95:.2f} s (hold {result.hold:.2f} s)",
            f"median and p95 <= hold + {MARGIN_SECONDS:.1f} s = {result.target:.2f} s",
            result.passed,
            "; ".join(notes),
        )
    ]
