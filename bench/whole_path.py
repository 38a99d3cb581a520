"""Benchmark 3: 500 messages from 100 contacts through webhook → Cloud Tasks → processing →
outbound → provider sandbox, each function in its own process, on the real emulators.

Also measures, in the same run and before the load, the Firestore emulator's own rate of
read-modify-write transactions, which bounds what any design on it can do; and, after the
load has settled, the idle path (bench/idle_path.py) on the same stack.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from atende.channels.whatsapp import sample
from atende.devstack.firestore_emulator import FirestoreEmulator
from atende.devstack.processes import ManagedProcess, free_port, wait_http
from atende.devstack.sandbox import SandboxClient
from atende.devstack.tasks_emulator import TasksEmulator
from atende.domain import keys
from bench import deliveries, environment, firestore_ops, idle_path, procstat
from bench.idle_path import IdlePathResult
from bench.report import Figure
from bench.servers import REPO, FunctionServer
from bench.stats import percentile

CONTACTS = 100
TEXTS = (
    "Oi",
    "qual o horário de vocês?",
    "meu pedido atrasou",
    "vocês entregam no sábado?",
    "pode me ajudar com a troca?",
)
TENANT = "bench"
ACCESS_TOKEN = "bench-access-token"
SENDERS = 20
#: Tasks of a queue in flight at once: the workers' per-instance concurrency in infra/
#: (function_settings.worker.concurrency), one instance per function here.
DISPATCHES = 8
#: The queues' retry backoff in infra/ (queue_settings: min 1 s, doubling 4 times).
RETRY_MIN_BACKOFF, RETRY_MAX_BACKOFF = 1.0, 16.0


@dataclass
class WholePathResult:
    messages: int
    seconds: float
    latencies: list[float]
    firestore_ops: dict[str, int]
    answered: int
    replies_sent: int
    duplicated_replies: int
    outbox_records: int
    outbox_not_sent: int
    transaction_rate: float
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    ops_by_function: dict[str, dict[str, int]] = field(default_factory=dict)
    #: CPU seconds each process spent from the first delivery to the last reply.
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    #: The idle path, measured on the same stack once the load has settled.
    idle: IdlePathResult | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def ops_per_message(self) -> float:
        return (self.firestore_ops.get("reads", 0) + self.firestore_ops.get("writes", 0)) / (
            self.messages
        )

    @property
    def by_collection(self) -> dict[str, dict[str, int]]:
        """Documents read and written, by collection, over every function."""
        return firestore_ops.by_collection(self.firestore_ops)

    @property
    def session_writes_per_message(self) -> float:
        """Writes to session documents (`sessions/{id}` itself, not its subcollections)."""
        return self.firestore_ops.get(f"writes.{SESSIONS}", 0) / self.messages

    @property
    def exactly_once(self) -> bool:
        return (
            self.answered == self.messages
            and self.duplicated_replies == 0
            and self.outbox_not_sent == 0
            and self.replies_sent == self.outbox_records
        )

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q) if self.latencies else math.nan


def _firestore_client(firestore_host: str) -> Any:
    """The benchmark's own client of the emulator (its reads are not counted)."""
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_host
    from google.cloud import firestore

    return firestore.Client(project=environment.PROJECT)


def transaction_rate(firestore_host: str, *, threads: int = 8, seconds: float = 5.0) -> float:
    """Read-modify-write transactions per second the emulator sustains (one document per
    thread, so no conflicts), with the same client the functions use."""
    from google.cloud import firestore

    client = _firestore_client(firestore_host)
    done = Counter[int]()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        ref = client.collection("bench_rmw").document(f"doc-{n}")

        @firestore.transactional  # type: ignore[misc]
        def increment(transaction: Any) -> None:
            snapshot = ref.get(transaction=transaction)
            value = (snapshot.to_dict() or {}).get("n", 0) if snapshot.exists else 0
            transaction.set(ref, {"n": value + 1})

        while time.monotonic() < deadline:
            increment(client.transaction())
            done[n] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return sum(done.values()) / (time.monotonic() - started)


class _Load:
    """Posts every contact's messages in order (each after the previous one's 200)."""

    def __init__(self, webhook_url: str) -> None:
        self.url = webhook_url
        self.posted: dict[str, float] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def contact(self, n: int) -> str:
        return f"5521{n:09d}"

    def message_id(self, contact: int, index: int) -> str:
        return f"wamid.bench.{contact}.{index}"

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.trust_env = False
        session: requests.Session = self._local.session
        return session

    def conversation(self, n: int) -> None:
        for index, text in enumerate(TEXTS):
            message = sample.text_message(
                self.contact(n), text, message_id=self.message_id(n, index),
                timestamp=1_800_000_000 + index,
            )  # fmt: skip
            body = sample.encode(sample.delivery([message]))
            with self._lock:
                self.posted[message["id"]] = time.time()
            response = self._session().post(
                self.url, data=body, headers=deliveries.headers(body), timeout=30
            )
            if response.status_code != 200:
                raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")

    def run(self) -> None:
        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(self.conversation, range(CONTACTS)))


def _first_reply_ids(load: _Load) -> dict[str, str]:
    """message id -> the outbox id of its first reply (ids are derived, not stored)."""
    wanted = {}
    for n in range(CONTACTS):
        session = keys.session_id(TENANT, "whatsapp", load.contact(n))
        for index in range(len(TEXTS)):
            message_id = load.message_id(n, index)
            wanted[message_id] = keys.outbox_id(TENANT, session, message_id, 0)
    return wanted


def _wait_answered(
    sandbox: SandboxClient, wanted: dict[str, str], timeout: float
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    needed = set(wanted.values())
    while True:
        received = sandbox.requests()
        seen = {r["json"].get("biz_opaque_callback_data") for r in received if r.get("json")}
        if needed <= seen or time.monotonic() > deadline:
            return received
        time.sleep(0.25)


_UNSETTLED = {"pending", "sending", "retrying"}


def _wait_settled(
    sandbox: SandboxClient, firestore_host: str, timeout: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every outbox record settled and its send seen by the sandbox (replies after a
    message's first one may still be on their way): (sandbox requests, outbox records)."""
    client = _firestore_client(firestore_host)
    deadline = time.monotonic() + timeout
    while True:
        outbox = [doc.to_dict() or {} for doc in client.collection("outbox").stream()]
        received = sandbox.requests()
        settled = not any(record.get("status") in _UNSETTLED for record in outbox)
        if (settled and len(received) >= len(outbox)) or time.monotonic() > deadline:
            return received, outbox
        time.sleep(0.5)


def run(work_dir: Path, *, timeout: float = 300.0) -> WholePathResult:
    work_dir.mkdir(parents=True, exist_ok=True)
    firestore = FirestoreEmulator(free_port(), environment.PROJECT, work_dir)
    queues = [environment.INBOUND_QUEUE, environment.OUTBOUND_QUEUE]
    tasks = TasksEmulator(
        free_port(), environment.PROJECT, environment.LOCATION, queues, work_dir,
        REPO / ".venv-tasks", quiet=True, max_concurrent_dispatches=DISPATCHES,
        min_backoff=RETRY_MIN_BACKOFF, max_backoff=RETRY_MAX_BACKOFF,
    )  # fmt: skip
    sandbox_port = free_port()
    sandbox_process = ManagedProcess(
        "sandbox",
        [sys.executable, "-m", "atende.devstack.sandbox", "--port", str(sandbox_port),
         "--access-token", ACCESS_TOKEN],
        {**os.environ, "PYTHONUNBUFFERED": "1"},
        work_dir / "sandbox.log",
        cwd=work_dir,
    )  # fmt: skip
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    started: list[Any] = []
    try:
        for part in (firestore, tasks, sandbox_process):
            part.start()
            started.append(part)
        wait_http(f"{sandbox_url}/_sandbox/health", 30, sandbox_process)
        rate = transaction_rate(firestore.host)
        firestore.wipe()
        names = ("whatsapp_webhook", "process_inbound", "send_outbound")
        ports = {name: free_port() for name in names}
        urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
        env = environment.function_env(
            tasks_host=tasks.host, functions=urls, firestore_host=firestore.host,
            sandbox_url=sandbox_url,
        )  # fmt: skip
        servers = {
            name: FunctionServer(
                name,
                env,
                work_dir,
                ports[name],
                firestore_counts=work_dir / f"firestore_ops_{name}.json",
            )
            for name in names
        }
        for server in servers.values():
            server.firestore_counts.unlink(missing_ok=True)  # type: ignore[union-attr]
            server.process.start()
            started.append(server)
        for server in servers.values():
            wait_http(server.url, 60, server.process)
        sandbox = SandboxClient(sandbox_url)
        load = _Load(urls["whatsapp_webhook"])
        wanted = _first_reply_ids(load)
        processes = {
            **{name: server.process for name, server in servers.items()},
            "firestore emulator": firestore.process, "tasks emulator": tasks.process,
            "provider sandbox": sandbox_process,
        }  # fmt: skip
        cpu_before = _cpu(processes)
        began = time.time()
        load.run()
        _wait_answered(sandbox, wanted, timeout)
        received, outbox = _wait_settled(sandbox, firestore.host, timeout)
        cpu = {name: round(after - cpu_before[name], 1) for name, after in _cpu(processes).items()}
        time.sleep(1.0)  # let the last counts reach their files
        result = _result(load, wanted, received, outbox, began, servers, rate)
        result.cpu_seconds = cpu
        result.idle = idle_path.run(
            urls["whatsapp_webhook"], sandbox, tasks, queues, tenant=TENANT,
            hold=idle_path.answer_hold(env),
        )  # fmt: skip
        return result
    finally:
        for part in reversed(started):
            part.stop()


def _cpu(processes: dict[str, ManagedProcess | None]) -> dict[str, float]:
    """CPU seconds so far of each process (and its children)."""
    return {
        name: procstat.cpu_seconds(process.pid)
        for name, process in processes.items()
        if process is not None and process.pid is not None
    }


def _result(
    load: _Load, wanted: dict[str, str], received: list[dict[str, Any]],
    outbox: list[dict[str, Any]], began: float, servers: dict[str, FunctionServer], rate: float,
) -> WholePathResult:  # fmt: skip
    arrival: dict[str, float] = {}
    per_id = Counter[str]()
    for record in received:
        callback = (record.get("json") or {}).get("biz_opaque_callback_data")
        if callback:
            per_id[callback] += 1
            arrival.setdefault(callback, record["time"])
    latencies = [
        arrival[outbox] - load.posted[m] for m, outbox in wanted.items() if outbox in arrival
    ]
    ops: Counter[str] = Counter()
    by_function = {name: server.firestore_operations() for name, server in servers.items()}
    for counted in by_function.values():
        ops.update(counted)
    last = max(arrival.values(), default=time.time())  # the last reply of all
    return WholePathResult(
        messages=len(wanted),
        seconds=last - began,
        latencies=latencies,
        firestore_ops=dict(ops),
        answered=sum(1 for outbox_id in wanted.values() if outbox_id in arrival),
        replies_sent=len(per_id),
        duplicated_replies=sum(count - 1 for count in per_id.values()),
        outbox_records=len(outbox),
        outbox_not_sent=sum(1 for record in outbox if record.get("status") != "sent"),
        transaction_rate=rate,
        peak_rss_mib={name: server.peak_rss_mib() for name, server in servers.items()},
        ops_by_function={name: counted for name, counted in by_function.items() if counted},
    )


RATE_FACTOR, OPS_TARGET, SESSION_WRITES_TARGET = 0.25, 8.0, 2.0
#: The collection of the conversation's document (atende.adapters.firestore.codec.SESSIONS).
SESSIONS = "sessions"


def summary(result: WholePathResult) -> dict[str, object]:
    return {
        "messages": result.messages,
        "seconds": round(result.seconds, 2),
        "messages_per_s": round(result.rate, 2),
        "p50_s": round(result.percentile(0.5), 2),
        "p99_s": round(result.percentile(0.99), 2),
        "firestore": result.firestore_ops,
        "firestore_ops_per_message": round(result.ops_per_message, 2),
        "firestore_by_collection": result.by_collection,
        "firestore_per_message_by_collection": {
            collection: {kind: round(count / result.messages, 2) for kind, count in ops.items()}
            for collection, ops in result.by_collection.items()
        },
        "session_document_writes_per_message": round(result.session_writes_per_message, 2),
        "emulator_rmw_transactions_per_s": round(result.transaction_rate, 1),
        "answered": result.answered,
        "replies_sent": result.replies_sent,
        "duplicated_replies": result.duplicated_replies,
        "outbox_records": result.outbox_records,
        "outbox_not_sent": result.outbox_not_sent,
        "peak_rss_mib": result.peak_rss_mib,
        "ops_by_function": result.ops_by_function,
        "cpu_seconds": result.cpu_seconds,
        "idle_path": idle_path.summary(result.idle) if result.idle else None,
    }


def figures(result: WholePathResult) -> list[Figure]:
    floor = RATE_FACTOR * result.transaction_rate
    reads, writes = result.firestore_ops.get("reads", 0), result.firestore_ops.get("writes", 0)
    per_function = "; ".join(
        f"{name}: {(ops.get('reads', 0) + ops.get('writes', 0)) / result.messages:.1f}"
        for name, ops in result.ops_by_function.items()
    )
    p50, p99 = result.percentile(0.5), result.percentile(0.99)
    tx = result.firestore_ops.get("calls.BeginTransaction", 0)
    cpu = ", ".join(f"{name} {seconds:.0f}" for name, seconds in result.cpu_seconds.items())
    ops = result.ops_per_message
    session_writes = result.session_writes_per_message
    writes_by_collection = ", ".join(
        f"{collection} {counted['writes'] / result.messages:.1f}"
        for collection, counted in result.by_collection.items()
        if counted["writes"]
    )
    idle = idle_path.figures(result.idle) if result.idle else []
    return [
        Figure(
            "3. whole path messages/s",
            f"{result.rate:.1f} msg/s (p50 {p50:.1f} s, p99 {p99:.1f} s)",
            f">= {RATE_FACTOR} x {result.transaction_rate:.0f} tx/s = {floor:.1f}",
            result.rate >= floor,
            f"{tx} transactions ({tx / result.messages:.1f} per message) "
            f"in {result.seconds:.0f} s; "
            f"CPU seconds meanwhile: {cpu}",
        ),
        Figure(
            "3. Firestore ops/message",
            f"{ops:.1f} ({reads} reads + {writes} writes)",
            f"<= {OPS_TARGET:.0f}",
            ops <= OPS_TARGET,
            f"per message, by function: {per_function}",
        ),
        Figure(
            "3. answered exactly once",
            f"{result.answered}/{result.messages} answered, {result.replies_sent} replies, "
            f"{result.duplicated_replies} duplicates, {result.outbox_not_sent} unsent",
            "all, once",
            result.exactly_once,
        ),
        Figure(
            "3. session-document writes/message",
            f"{session_writes:.1f} "
            f"({result.firestore_ops.get(f'writes.{SESSIONS}', 0)} writes to {SESSIONS}/)",
            f"<= {SESSION_WRITES_TARGET:.0f}",
            session_writes <= SESSION_WRITES_TARGET,
            f"writes per message, by collection: {writes_by_collection}",
        ),
        *idle,
    ]
