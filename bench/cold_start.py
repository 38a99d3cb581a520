"""Benchmark 5: cold start, the seconds from spawning `functions-framework --asgi` to the first
2xx of a real request, for the WhatsApp webhook and for process_inbound, against the bare
function (target: at most 2 x the bare function's time).

Each start is a fresh process, the three functions alternated (bare, webhook, process, bare, …)
so drift on a shared machine hits them alike. The webhook's probe is a signed 4 KB delivery
(its first 200 means verified, parsed and enqueued to the Cloud Tasks emulator, queues paused);
process_inbound's probe is the InboundTask body Cloud Tasks would deliver for such a delivery,
with the shared-secret header (its first 200 means authenticated and admitted against the
Firestore emulator). Every probe carries a fresh message id, and each 200 is confirmed
afterwards (the task is in the queue; a second delivery of the task finds the message already
admitted), so a 200 for a permanently failed task cannot pass for a cold start.

For context it also times `import main` of each function in a fresh interpreter, writes its
`-X importtime` log (importtime_<function>.txt in the work directory), and starts each function
once, unmeasured, under PYTHONPROFILEIMPORTTIME (importtime_<function>_served.txt): that log
also has what the server and the first request import, and the imports the bare function does
not make are the cold start's own, what could be made lazy or dropped. That start also warms
the page cache before the measured ones.

    cd /work/main && .venv/bin/python -m bench.cold_start [--starts 5] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from atende.adapters.cloud_tasks import CORRELATION_HEADER, TASK_TOKEN_HEADER
from atende.channels.whatsapp.parse import parse_delivery
from atende.devstack.firestore_emulator import FirestoreEmulator
from atende.devstack.processes import free_port
from atende.devstack.tasks_emulator import TasksEmulator
from atende.domain import keys
from atende.domain.events import MessageReceived
from atende.tasks.contracts import InboundTask
from bench import deliveries, environment
from bench.report import Figure
from bench.servers import REPO, FunctionServer, clean_env, source_of

BARE, WEBHOOK, PROCESS = "bare", "whatsapp_webhook", "process_inbound"
FUNCTIONS = (BARE, WEBHOOK, PROCESS)
#: The most a function's median cold start may be, as a multiple of the bare function's.
TARGET_RATIO = 2.0
DELIVERY_BYTES = 4096
IMPORT_RUNS = 3
SLOWEST = 10
#: Nothing listens there: the functions need URLs for the tasks they build, never call them.
_UNUSED_URL = "http://127.0.0.1:9/{}"
#: Message ids (and contacts) of the probes: one range per function, one id per start.
_SERIAL_BASE = {WEBHOOK: 10_000, PROCESS: 20_000}
_IMPORT_CODE = (
    "import sys, time; t = time.perf_counter(); sys.path.insert(0, sys.argv[1]); "
    "import main; print(time.perf_counter() - t)"
)
#: process_inbound's answers to a task it has already admitted (in the inbox, or answered).
_ALREADY_ADMITTED = ("present", "duplicate")
_IT = "import time:"
#: A served log's top-level imports come from the function's source or from lazy imports.
_TOP = "(top level: source or lazy)"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Probe = tuple[str, bytes | None, Mapping[str, str]]


@dataclass(frozen=True)
class ImportEntry:
    """One line of an `-X importtime` log: where an import enters a new top-level package."""

    module: str
    #: The module whose import pulled this one in ("" at the top of the log).
    imported_by: str
    self_us: int
    cumulative_us: int


@dataclass
class ColdStartResult:
    #: Seconds from spawn to the first 2xx, per function, in the order measured.
    cold_starts: dict[str, list[float]] = field(default_factory=dict)
    #: Peak RSS (MiB) of the serving worker right after its first 2xx, per start.
    peak_rss_mib: dict[str, list[float]] = field(default_factory=dict)
    #: Median seconds to `import main` in a fresh interpreter (module import only: the
    #: container, clients and their libraries are built on the first request).
    import_seconds: dict[str, float] = field(default_factory=dict)
    #: The slowest imports of the webhook and process_inbound, from their importtime logs.
    slowest_imports: dict[str, list[ImportEntry]] = field(default_factory=dict)
    #: The slowest imports of the served webhook and process_inbound (server start, source
    #: and first request) that the served bare function does not make: the cold start's
    #: own imports, lazy ones included.
    extra_imports: dict[str, list[ImportEntry]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.cold_starts[name])

    def median_rss_mib(self, name: str) -> float:
        return statistics.median(self.peak_rss_mib[name])

    def ratio(self, name: str) -> float:
        """The function's median cold start over the bare function's."""
        return self.median(name) / self.median(BARE)

    def paired_ratio(self, name: str) -> float:
        """Median of the per-round ratios (each round's starts measured back to back)."""
        pairs = zip(self.cold_starts[name], self.cold_starts[BARE], strict=True)
        return statistics.median(mine / bare for mine, bare in pairs)

    def meets_target(self) -> bool:
        return all(self.ratio(name) <= TARGET_RATIO for name in (WEBHOOK, PROCESS))


# --- probes -------------------------------------------------------------------------------


def webhook_probe(serial: int) -> Probe:
    """A signed 4 KB delivery of one text message whose id is unique per `serial`."""
    body = deliveries.delivery(DELIVERY_BYTES, serial=serial)
    return "POST", body, deliveries.headers(body)


def inbound_task_body(serial: int, tenant_id: str) -> bytes:
    """The task body the webhook enqueues for `webhook_probe(serial)`'s delivery."""
    (event,) = parse_delivery(deliveries.delivery(DELIVERY_BYTES, serial=serial))
    if not isinstance(event, MessageReceived):
        raise TypeError(f"expected a received message, parsed {event.type}")
    task = InboundTask(tenant_id=tenant_id, event=event, received_at=datetime.now(UTC))
    return task.model_dump_json().encode()


def process_probe(serial: int, tenant_id: str) -> Probe:
    """What Cloud Tasks delivers to process_inbound, authenticated with the shared secret."""
    headers = {
        "content-type": "application/json",
        TASK_TOKEN_HEADER: environment.TASK_SECRET,
        CORRELATION_HEADER: f"bench-cold-start-{serial}",
    }
    return "POST", inbound_task_body(serial, tenant_id), headers


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=body, method="POST", headers=dict(headers)
    )
    with _OPENER.open(request, timeout=30) as response:
        return response.status, response.read()


# --- cold starts --------------------------------------------------------------------------


class Harness:
    """The emulators and environment every start shares, and how each 200 is confirmed."""

    def __init__(self, tasks: TasksEmulator, env: dict[str, str]) -> None:
        self.tasks = tasks
        self.env = env
        tenants: dict[str, str] = json.loads(env["ATENDE_WHATSAPP_TENANTS"])
        self.tenant_id = tenants[deliveries.PHONE_NUMBER_ID]

    def probe(self, name: str, serial: int) -> Probe:
        if name == WEBHOOK:
            return webhook_probe(serial)
        if name == PROCESS:
            return process_probe(serial, self.tenant_id)
        return "GET", None, {}

    def confirm(self, name: str, server: FunctionServer, probe: Probe, serial: int) -> None:
        """Raise unless the probe's 200 did the work (it is not enough that it was a 200)."""
        if name == WEBHOOK:
            # The delivery's message id is wamid.bench.<serial>.0 (see bench.deliveries).
            task_id = keys.inbound_task_id("whatsapp", f"wamid.bench.{serial}.0")
            queue = self.tasks.queue_path(environment.INBOUND_QUEUE)
            names = {task.name for task in self.tasks.list_tasks(queue)}
            if f"{queue}/tasks/{task_id}" not in names:
                raise RuntimeError(f"{name}: the delivery's task is not in {queue}")
        elif name == PROCESS:
            _, body, headers = probe
            status, answer = _post(server.url, body or b"", headers)
            outcome = json.loads(answer).get("outcome")
            # A fresh contact's fresh message: only the probe can have admitted it before.
            if status != 200 or outcome not in _ALREADY_ADMITTED:
                raise RuntimeError(f"{name}: the task was not admitted ({status} {outcome})")


def start_once(
    name: str,
    harness: Harness,
    serial: int,
    work_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[float, float, Path]:
    """One fresh process to its first 2xx: (cold start seconds, peak RSS MiB, its log)."""
    probe = harness.probe(name, serial)
    server = FunctionServer(name, {**harness.env, **(extra_env or {})}, work_dir)
    try:
        server.start(probe)
        rss = server.peak_rss_mib()
        harness.confirm(name, server, probe, serial)
    finally:
        server.stop()
    if server.cold_start is None:
        raise RuntimeError(f"{name} reported no cold start")
    return server.cold_start, rss, server.process.log_path


def _emulators(stack: ExitStack, work_dir: Path) -> tuple[FirestoreEmulator, TasksEmulator]:
    firestore = stack.enter_context(FirestoreEmulator(free_port(), environment.PROJECT, work_dir))
    queues = [environment.INBOUND_QUEUE, environment.OUTBOUND_QUEUE]
    tasks = TasksEmulator(
        free_port(), environment.PROJECT, environment.LOCATION, queues, work_dir,
        REPO / ".venv-tasks", reject_duplicate_names=False, quiet=True,
    )  # fmt: skip
    stack.enter_context(tasks)
    for queue in queues:
        tasks.pause(tasks.queue_path(queue))  # enqueued, never dispatched
    return firestore, tasks


# --- imports ------------------------------------------------------------------------------


def _function_dir(name: str) -> str:
    return str(source_of(name).parent)


def import_seconds(name: str, env: Mapping[str, str], work_dir: Path) -> float:
    """Median seconds to `import main` of the function in a fresh interpreter."""
    runs = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT_CODE, _function_dir(name)],
            env=env, cwd=work_dir, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        runs.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


def write_importtime(name: str, env: Mapping[str, str], work_dir: Path) -> Path:
    """Write the `-X importtime` log of `import main` to work_dir/importtime_<name>.txt."""
    log = work_dir / f"importtime_{name}.txt"
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "-X", "importtime", "-c", _IMPORT_CODE, _function_dir(name)],
            env=env, cwd=work_dir, stdout=subprocess.DEVNULL, stderr=out, timeout=120,
            check=True,
        )  # fmt: skip
    return log


def _parse_line(line: str) -> tuple[str, int, int, int] | None:
    """(module, depth, self µs, cumulative µs) of one importtime line, None for others."""
    if not line.startswith(_IT):
        return None
    parts = line[len(_IT) :].split("|")
    if len(parts) != 3 or not parts[0].strip().isdigit():
        return None  # the header line
    # The name column is one space, then two spaces per level of nesting.
    depth = (len(parts[2]) - len(parts[2].lstrip()) - 1) // 2
    return parts[2].strip(), depth, int(parts[0]), int(parts[1])


def parse_importtime(text: str) -> list[ImportEntry]:
    """Every import that enters a new top-level package (pydantic from atende.ports, flask from
    functions_framework…), with the module that pulled it in; the log lists children before
    their parent, so each line adopts the deeper lines pending before it."""
    parsed = [entry for line in text.splitlines() if (entry := _parse_line(line))]
    importer = [""] * len(parsed)
    pending: list[int] = []
    for index, (module, depth, _, _) in enumerate(parsed):
        while pending and parsed[pending[-1]][1] > depth:
            importer[pending.pop()] = module
        pending.append(index)
    found = []
    for (module, _, self_us, cumulative_us), parent in zip(parsed, importer, strict=True):
        if parent.split(".")[0] != module.split(".")[0]:
            found.append(ImportEntry(module, parent, self_us, cumulative_us))
    return found


def _slowest(entries: list[ImportEntry], count: int) -> list[ImportEntry]:
    return sorted(entries, key=lambda e: e.cumulative_us, reverse=True)[:count]


def slowest_imports(log: Path, count: int = SLOWEST) -> list[ImportEntry]:
    """The `count` slowest package entries below `main` (main itself left out)."""
    return _slowest([e for e in parse_importtime(log.read_text()) if e.imported_by], count)


def write_served_importtime(name: str, harness: Harness, serial: int, work_dir: Path) -> Path:
    """Start the function once under PYTHONPROFILEIMPORTTIME (not measured: it also warms the
    page cache for the measured starts) and keep the importtime lines of its log, which cover
    the server, the function's source and what its first request imports, in
    work_dir/importtime_<name>_served.txt."""
    profiled = {"PYTHONPROFILEIMPORTTIME": "1"}
    _, _, server_log = start_once(name, harness, serial, work_dir, profiled)
    # The log is appended to: keep what follows the last "--- … starting" line.
    this_run = server_log.read_text().rsplit("\n--- ", 1)[-1]
    lines = [line for line in this_run.splitlines() if line.startswith(_IT)]
    log = work_dir / f"importtime_{name}_served.txt"
    log.write_text("\n".join(lines) + "\n")
    return log


def extra_imports(served: Path, bare: Path, count: int = SLOWEST) -> list[ImportEntry]:
    """The `count` slowest package entries of a served function that the served bare function
    does not import at all: what it adds to the bare cold start, startup and first request."""
    bare_modules = {line.split("|")[-1].strip() for line in bare.read_text().splitlines()}
    entries = parse_importtime(served.read_text())
    return _slowest([e for e in entries if e.module not in bare_modules], count)


# --- the benchmark ------------------------------------------------------------------------


def run(work_dir: Path, *, starts: int = 5) -> ColdStartResult:
    work_dir.mkdir(parents=True, exist_ok=True)
    result = ColdStartResult()
    with ExitStack() as resources:
        firestore, tasks = _emulators(resources, work_dir)
        env = environment.function_env(
            tasks_host=tasks.host,
            functions={name: _UNUSED_URL.format(name) for name in (PROCESS, "send_outbound")},
            firestore_host=firestore.host,
        )
        harness = Harness(tasks, env)
        child_env = {**clean_env(), **env}
        # First, so the page cache and bytecode are as warm for the first start as the last.
        for name in FUNCTIONS:
            result.import_seconds[name] = import_seconds(name, child_env, work_dir)
        for name in (WEBHOOK, PROCESS):
            log = write_importtime(name, child_env, work_dir)
            result.slowest_imports[name] = slowest_imports(log)
        served = {
            name: write_served_importtime(name, harness, _SERIAL_BASE.get(name, 0), work_dir)
            for name in FUNCTIONS
        }
        for name in (WEBHOOK, PROCESS):
            result.extra_imports[name] = extra_imports(served[name], served[BARE])
        for round_ in range(starts):
            for name in FUNCTIONS:
                serial = _SERIAL_BASE.get(name, 0) + 1 + round_
                seconds, rss, _ = start_once(name, harness, serial, work_dir)
                result.cold_starts.setdefault(name, []).append(seconds)
                result.peak_rss_mib.setdefault(name, []).append(rss)
    return result


# --- report -------------------------------------------------------------------------------


def _table(result: ColdStartResult) -> list[str]:
    lines = [
        f"{'function':<18}{'median s':>10}{'min s':>8}{'max s':>8}{'× bare':>8}"
        f"{'paired ×':>10}{'RSS MiB':>9}{'import s':>10}",
    ]
    for name in FUNCTIONS:
        runs = result.cold_starts[name]
        ratio = "" if name == BARE else f"{result.ratio(name):.2f}"
        paired = "" if name == BARE else f"{result.paired_ratio(name):.2f}"
        lines.append(
            f"{name:<18}{result.median(name):>10.3f}{min(runs):>8.3f}{max(runs):>8.3f}"
            f"{ratio:>8}{paired:>10}{result.median_rss_mib(name):>9.1f}"
            f"{result.import_seconds[name]:>10.3f}"
        )
    verdict = "met" if result.meets_target() else "NOT met"
    lines.append(f"target ≤ {TARGET_RATIO:g} × bare: {verdict}")
    return lines


def _imports(title: str, imports: dict[str, list[ImportEntry]]) -> list[str]:
    lines = []
    for name, entries in imports.items():
        lines.append(f"{title} {name} (cumulative ms, module, pulled in by):")
        lines.extend(
            f"  {e.cumulative_us / 1000:8.1f}  {e.module:<40} {e.imported_by or _TOP}"
            for e in entries
        )
    return lines


def report(result: ColdStartResult) -> str:
    starts = len(result.cold_starts[BARE])
    head = f"cold start, {starts} fresh processes per function, alternated"
    lines = [head, *_table(result), ""]
    lines += _imports("`import main` of", result.slowest_imports)
    lines += _imports("served, beyond the bare function's imports:", result.extra_imports)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, write: Callable[[str], object] = sys.stdout.write) -> None:
    parser = argparse.ArgumentParser(description="Benchmark 5 of issue 6: cold start.")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="atende-bench-cold-start-"))
    result = run(work_dir, starts=args.starts)
    write(report(result))
    write(f"logs in {work_dir}\n")


if __name__ == "__main__":
    main()


def figures(result: ColdStartResult) -> list[Figure]:
    """For `python -m bench`: one row per function measured against the bare one."""
    bare = result.median("bare")
    rows = []
    for name in ("whatsapp_webhook", "process_inbound"):
        extra = ", ".join(
            f"{entry.module} {entry.cumulative_us / 1000:.0f} ms"
            for entry in result.extra_imports.get(name, [])[:5]
        )
        rows.append(
            Figure(
                f"5. cold start {name}/bare",
                f"{result.ratio(name):.2f} ({result.median(name):.2f} s vs {bare:.2f} s)",
                f"<= {TARGET_RATIO:g}",
                result.ratio(name) <= TARGET_RATIO,
                f"slowest imports beyond bare's: {extra}" if extra else "",
            )
        )
    return rows
