"""Benchmark 1: the WhatsApp webhook (verify, parse, enqueue to the Cloud Tasks emulator with
its queue paused) against the bare function, same server, same load, alternated."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from atende.devstack.processes import free_port
from atende.devstack.tasks_emulator import TasksEmulator
from bench import deliveries, environment, wrk
from bench.report import Figure
from bench.servers import REPO, FunctionServer

CONNECTIONS = 200
DELIVERY_BYTES = 4096


@dataclass
class Run:
    load: wrk.LoadResult
    cpu_seconds: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / max(self.load.requests, 1) * 1e6


@dataclass
class EdgeRateResult:
    runs: dict[str, list[Run]] = field(default_factory=lambda: {"bare": [], "webhook": []})
    peak_rss_mib: dict[str, float] = field(default_factory=dict)

    def median(self, target: str, attribute: str) -> float:
        """Median over the runs of an attribute of the load (rate, p50_ms…) or the run."""
        values = [
            getattr(run.load if hasattr(run.load, attribute) else run, attribute)
            for run in self.runs[target]
        ]
        return float(statistics.median(values))

    def ratio(self) -> float:
        """Median of the per-round ratios webhook/bare (each round measured back to back)."""
        pairs = zip(self.runs["webhook"], self.runs["bare"], strict=True)
        return statistics.median(w.load.rate / b.load.rate for w, b in pairs)

    def cpu_ratio(self) -> float:
        pairs = zip(self.runs["webhook"], self.runs["bare"], strict=True)
        return statistics.median(w.cpu_us_per_request / b.cpu_us_per_request for w, b in pairs)


def _measure(server: FunctionServer, bodies: Path, seconds: float, work_dir: Path) -> Run:
    before = server.cpu_seconds()
    load = wrk.run(server.url, bodies, connections=CONNECTIONS, seconds=seconds, work_dir=work_dir)
    return Run(load=load, cpu_seconds=server.cpu_seconds() - before)


def run(work_dir: Path, *, seconds: float = 15, rounds: int = 3) -> EdgeRateResult:
    work_dir.mkdir(parents=True, exist_ok=True)
    queues = [environment.INBOUND_QUEUE, environment.OUTBOUND_QUEUE]
    emulator = TasksEmulator(
        free_port(), environment.PROJECT, environment.LOCATION, queues, work_dir,
        REPO / ".venv-tasks", reject_duplicate_names=False, quiet=True,
    )  # fmt: skip
    emulator.start()
    try:
        for queue in queues:
            emulator.pause(emulator.queue_path(queue))  # nothing dispatched while we measure
        env = environment.function_env(
            tasks_host=emulator.host,
            functions={"process_inbound": "http://127.0.0.1:9/process_inbound"},
        )
        # Enough distinct deliveries that none repeats within a run.
        bodies = wrk.write_deliveries(work_dir / "deliveries.txt", 60_000, DELIVERY_BYTES)
        warm_body = deliveries.delivery(DELIVERY_BYTES, serial=10_000_000)
        probe = ("POST", warm_body, deliveries.headers(warm_body))
        servers = {
            "bare": FunctionServer("bare", {}, work_dir),
            "webhook": FunctionServer("whatsapp_webhook", env, work_dir),
        }
        result = EdgeRateResult()
        try:
            for server in servers.values():
                server.start(probe)
                # Warm up (lazy clients, first connections) outside the measurement.
                wrk.run(server.url, bodies, connections=CONNECTIONS, seconds=2, work_dir=work_dir)
            for _ in range(rounds):
                for name in ("bare", "webhook"):
                    result.runs[name].append(_measure(servers[name], bodies, seconds, work_dir))
                    for queue in queues:
                        emulator.purge(emulator.queue_path(queue))
            result.peak_rss_mib = {
                server.target: server.peak_rss_mib() for server in servers.values()
            }
        finally:
            for server in servers.values():
                server.stop()
        return result
    finally:
        emulator.stop()


RATIO_TARGET, P99_TARGET_MS, CPU_RATIO_TARGET = 0.75, 300.0, 1.5


def _rounds(result: EdgeRateResult) -> str:
    return "; ".join(
        f"round {n + 1}: bare {b.load.rate:.0f}/s, webhook {w.load.rate:.0f}/s"
        for n, (b, w) in enumerate(zip(result.runs["bare"], result.runs["webhook"], strict=True))
    )


def summary(result: EdgeRateResult) -> dict[str, object]:
    return {
        name: [
            {
                "requests_per_s": round(run.load.rate, 1),
                "p50_ms": run.load.p50_ms,
                "p99_ms": run.load.p99_ms,
                "errors": run.load.errors,
                "cpu_us_per_request": round(run.cpu_us_per_request, 1),
            }
            for run in runs
        ]
        for name, runs in result.runs.items()
    } | {
        "ratio": result.ratio(),
        "cpu_ratio": result.cpu_ratio(),
        "peak_rss_mib": result.peak_rss_mib,
    }


def figures(result: EdgeRateResult) -> list[Figure]:
    webhook = result.runs["webhook"]
    bare_rate, hook_rate = result.median("bare", "rate"), result.median("webhook", "rate")
    p99 = max(run.load.p99_ms for run in webhook)
    errors = sum(run.load.errors for run in webhook)
    bare_cpu = result.median("bare", "cpu_us_per_request")
    hook_cpu = result.median("webhook", "cpu_us_per_request")
    ratio, cpu_ratio = result.ratio(), result.cpu_ratio()
    p50 = result.median("webhook", "p50_ms")
    return [
        Figure(
            "1. edge rate webhook/bare",
            f"{ratio:.2f} ({hook_rate:.0f} vs {bare_rate:.0f} req/s)",
            f">= {RATIO_TARGET}",
            ratio >= RATIO_TARGET,
            _rounds(result),
        ),
        Figure(
            "1. edge p99 (worst run)",
            f"{p99:.0f} ms (p50 {p50:.0f} ms)",
            f"<= {P99_TARGET_MS:.0f} ms",
            p99 <= P99_TARGET_MS,
        ),
        Figure("1. edge errors", str(errors), "0", errors == 0),
        Figure(
            "2. edge CPU/request webhook/bare",
            f"{cpu_ratio:.2f} ({hook_cpu:.0f} vs {bare_cpu:.0f} µs)",
            f"<= {CPU_RATIO_TARGET}",
            cpu_ratio <= CPU_RATIO_TARGET,
        ),
    ]
