"""Benchmark 2: the webhook's own CPU per delivery, without the HTTP framework.

Measures what the WhatsApp webhook does between reading the body and calling the network:
`WebhookEdge.handle` on a POST, built by the composition root (real HMAC check with the app
secret from the environment, real parsing, tenant from settings, task bodies), with each
Cloud Tasks request built by the real adapter's builder but not sent. Logging is configured
as in production (JSON lines at INFO), written to /dev/null. Left out, being the HTTP
layer's: Starlette's request and Headers (a dict here), the correlation id (made before
timing) and `serve_webhook`'s per-request `configure_logging` and container look-ups.

Deliveries of 1 KB, 4 KB and 64 KB (one message) and of 10 messages in 4 KB; target: under
200 µs for 4 KB. The 4 KB case is also profiled (pyinstrument) to say where the time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from atende.adapters.cloud_tasks import TASK_TOKEN_HEADER, _TaskBuilder
from atende.bootstrap import Container
from atende.config import Settings
from atende.observability.context import new_correlation_id
from atende.observability.logging import DeferredStructuredHandler as DeferredStructured
from atende.observability.logging import configure_logging
from atende.ports import TaskRequest
from atende.tasks.contracts import PROCESS_INBOUND
from atende.webhook.edge import EdgeRequest, WebhookEdge
from bench import deliveries, environment
from bench.report import Figure

if TYPE_CHECKING:
    from pyinstrument.frame import Frame

TARGET_US = 200.0
TARGET_CASE = "4 KB"
CHANNEL = "whatsapp"
#: Never contacted: the queue below builds requests and sends none.
_UNUSED_HOST = "127.0.0.1:9"
_WORKER_URL = f"http://{_UNUSED_HOST}/{PROCESS_INBOUND}"
#: Timed deliveries that estimate the cost of one before sizing the repeats.
_CALIBRATION = 50
_MIN_ITERATIONS = 20
#: pyinstrument's default: a shorter one multiplies its overhead (and its render time).
_PROFILE_INTERVAL_S = 0.001
_TOP_FUNCTIONS = 8
#: The edge's steps, by a part of the name (path:qualified function) of the frame doing
#: each; a step's time includes what it calls, unless that is another step.
_STEPS: tuple[tuple[str, str], ...] = (
    ("verify (HMAC)", "WhatsAppConnector.verify"),
    ("parse", "WhatsAppConnector.parse"),
    ("task JSON (InboundTask.model_dump_json)", "InboundTask.model_dump_json"),
    ("Cloud Tasks request build", "_BuildOnlyQueue.enqueue"),
    ("logging", "logging/__init__.py:Logger."),
)
#: Only their own time: what they run belongs to the step running.
_EVENT_LOOP = ("asyncio/", "selectors.py:")
_REST = "the rest (edge, tasks, batching)"
_STDLIB = re.compile(r"/lib/python3\.\d+/(.+)$")

Prepared = tuple[dict[str, str], bytes, str]  # headers, body, correlation id


class Elapsed(NamedTuple):
    wall_ns: int
    cpu_ns: int


class BrokenPathError(RuntimeError):
    """The measured path did not do what the real webhook does: its timing means nothing."""


@dataclass(frozen=True)
class Case:
    name: str
    size: int
    messages: int = 1


CASES: tuple[Case, ...] = (
    Case("1 KB", 1024),
    Case("4 KB", 4096),
    Case("64 KB", 65536),
    Case("10 messages (4 KB)", 4096, messages=10),
)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    body_bytes: int
    iterations_per_repeat: int
    #: µs per delivery (wall clock, perf_counter), one figure per repeat, and their median.
    repeats_us: tuple[float, ...]
    median_us: float
    #: µs of this process's CPU per delivery: less sensitive than the wall clock to other
    #: processes on a shared machine.
    repeats_cpu_us: tuple[float, ...]
    median_cpu_us: float


@dataclass(frozen=True)
class Profile:
    """Where the time of the 4 KB case goes, sampled. The sampler's hook runs on every
    Python call (about 2-3x the CPU here), so call-heavy code looks somewhat bigger."""

    path: Path
    html_path: Path
    #: "42% atende/channels/whatsapp/parse.py:parse_delivery", by own time.
    top_functions: tuple[str, ...]
    #: "38% logging": each step's share, what it calls included (see _STEPS).
    steps: tuple[str, ...]


@dataclass(frozen=True)
class EdgeCpuResult:
    cases: dict[str, CaseResult]
    profile: Profile
    #: Whether atende's JSON handler was installed at INFO, as in production.
    logging_on: bool
    target_us: float = TARGET_US

    @property
    def profile_path(self) -> Path:
        return self.profile.path

    @property
    def top_functions(self) -> tuple[str, ...]:
        return self.profile.top_functions

    def median_us(self, case: str) -> float:
        return self.cases[case].median_us

    @property
    def meets_target(self) -> bool:
        return self.median_us(TARGET_CASE) < self.target_us


class _BuildOnlyQueue:
    """The AsyncTaskQueue double: builds each Cloud Tasks request as the real adapter does
    (queue path and Task message), counts it, and sends nothing."""

    def __init__(self, settings: Settings, task_secret: str | None) -> None:
        self._builder = _TaskBuilder(settings, task_secret)
        self.built = 0
        self.last: tuple[str, Any] | None = None

    async def enqueue(self, task: TaskRequest) -> bool:
        parent = self._builder.queue_path(task)
        built = self._builder.build(task)
        self.built += 1
        self.last = (parent, built)
        return True


class _BenchContainer(Container):
    """The composition root with only the Cloud Tasks client swapped for the double."""

    @property
    def async_task_queue(self) -> _BuildOnlyQueue:
        return self._once(
            "async_task_queue", lambda: _BuildOnlyQueue(self.settings, self._task_secret())
        )


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _production_logging(level: str) -> Iterator[bool]:
    """atende's logging as in production, its output sent to /dev/null; yields whether its
    handler is installed with INFO enabled for the edge's logger. The root logger's handlers
    and level are restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    with open(os.devnull, "w", encoding="utf-8") as sink:
        # Our structured handler, writing to /dev/null (the first call installs it).
        root.handlers[:] = [h for h in root.handlers if not isinstance(h, DeferredStructured)]
        configure_logging(level, stream=sink)
        try:
            installed = any(isinstance(h, DeferredStructured) for h in root.handlers)
            yield installed and logging.getLogger(WebhookEdge.__module__).isEnabledFor(logging.INFO)
        finally:
            root.handlers[:] = saved_handlers
            root.setLevel(saved_level)


def _build_edge() -> tuple[WebhookEdge, _BuildOnlyQueue]:
    """As the composition root builds the webhook; call with the function's env set."""
    # No .env file: the figures must not depend on a developer's local settings.
    container = _BenchContainer(Settings(_env_file=None))
    return container.webhook(CHANNEL), container.async_task_queue


def _prepare(case: Case, serials: Iterator[int], count: int) -> list[Prepared]:
    prepared: list[Prepared] = []
    for serial in itertools.islice(serials, count):
        body = deliveries.delivery(case.size, messages=case.messages, serial=serial)
        prepared.append((deliveries.headers(body), body, new_correlation_id()))
    return prepared


async def _drive(
    edge: WebhookEdge, queue: _BuildOnlyQueue, batch: Sequence[Prepared], messages: int
) -> Elapsed:
    """Handle every delivery of the batch; the time it took. Raises unless each was accepted
    with one task per message (`messages` per delivery)."""
    before = queue.built
    start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
    for headers, body, correlation_id in batch:
        request = EdgeRequest(method="POST", headers=headers, body=body)
        response = await edge.handle(request, correlation_id)
        if response.status != 200:
            raise BrokenPathError(f"delivery answered {response.status}: {response.body}")
    elapsed = Elapsed(time.perf_counter_ns() - start, time.process_time_ns() - start_cpu)
    expected = len(batch) * messages
    if queue.built - before != expected:
        raise BrokenPathError(f"built {queue.built - before} tasks for {expected} messages")
    return elapsed


def _check_built(queue: _BuildOnlyQueue) -> None:
    """The last built task really is a Cloud Tasks request for the inbound worker."""
    if queue.last is None:
        raise BrokenPathError("no task was built")
    parent, task = queue.last
    queue_path = f"projects/{environment.PROJECT}/locations/{environment.LOCATION}/queues/"
    ok = (
        parent == queue_path + environment.INBOUND_QUEUE
        and task.name.startswith(parent + "/tasks/in-")
        and task.http_request.url == _WORKER_URL
        and task.http_request.headers.get(TASK_TOKEN_HEADER) == environment.TASK_SECRET
        and len(task.http_request.body) > 0
    )
    if not ok:
        raise BrokenPathError(f"unexpected task built: {parent} {task.name}")


async def _measure_case(
    edge: WebhookEdge,
    queue: _BuildOnlyQueue,
    case: Case,
    serials: Iterator[int],
    *,
    repeats: int,
    seconds_per_case: float,
) -> CaseResult:
    # The first delivery pays one-off costs (imports of the Cloud Tasks types): untimed.
    await _drive(edge, queue, _prepare(case, serials, 1), case.messages)
    _check_built(queue)
    calibration = _prepare(case, serials, _CALIBRATION)
    calibrated = await _drive(edge, queue, calibration, case.messages)
    per_delivery_ns = calibrated.wall_ns / _CALIBRATION
    budget_ns = seconds_per_case / repeats * 1e9
    iterations = max(_MIN_ITERATIONS, int(budget_ns / per_delivery_ns))
    batches = [_prepare(case, serials, iterations) for _ in range(repeats)]
    elapsed = [await _drive(edge, queue, batch, case.messages) for batch in batches]
    wall = tuple(e.wall_ns / iterations / 1e3 for e in elapsed)
    cpu = tuple(e.cpu_ns / iterations / 1e3 for e in elapsed)
    return CaseResult(
        case,
        body_bytes=len(calibration[0][1]),
        iterations_per_repeat=iterations,
        repeats_us=wall,
        median_us=statistics.median(wall),
        repeats_cpu_us=cpu,
        median_cpu_us=statistics.median(cpu),
    )


async def _measure_all(
    edge: WebhookEdge, queue: _BuildOnlyQueue, repeats: int, seconds_per_case: float
) -> dict[str, CaseResult]:
    serials = itertools.count()
    results: dict[str, CaseResult] = {}
    for case in CASES:
        results[case.name] = await _measure_case(
            edge, queue, case, serials, repeats=repeats, seconds_per_case=seconds_per_case
        )
    return results


def _short_path(path: str | None) -> str:
    """From the package: atende/..., bench/..., pydantic/..., json/decoder.py."""
    if not path:
        return "?"
    path = path.replace("\\", "/")
    if "/site-packages/" in path:
        return path.rsplit("/site-packages/", 1)[1]
    for package in ("/atende/", "/bench/"):
        if package in path:
            return path[path.index(package) + 1 :]
    stdlib = _STDLIB.search(path)
    return stdlib.group(1) if stdlib else path


def _name(frame: Frame) -> str:
    function = frame.function
    if frame.class_name and not function.startswith(frame.class_name + "."):
        function = f"{frame.class_name}.{function}"
    return f"{_short_path(frame.file_path)}:{function}"


def _own_times(frame: Frame, totals: dict[str, float]) -> None:
    if not frame.is_synthetic:
        key = _name(frame)
        totals[key] = totals.get(key, 0.0) + frame.total_self_time
    for child in frame.children:
        _own_times(child, totals)


def _top_functions(root: Frame, count: int) -> tuple[str, ...]:
    totals: dict[str, float] = {}
    _own_times(root, totals)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:count]
    return tuple(f"{seconds / root.time:.0%} {name}" for name, seconds in ranked)


def _attribute(frame: Frame, step: str, totals: dict[str, float]) -> None:
    """Add each frame's own time to the innermost step running it."""
    name = _name(frame)
    step = next((label for label, part in _STEPS if part in name), step)
    if not frame.is_synthetic:
        own = "event loop (asyncio)" if name.startswith(_EVENT_LOOP) else step
        totals[own] = totals.get(own, 0.0) + frame.total_self_time
    for child in frame.children:
        _attribute(child, step, totals)


def _steps(root: Frame) -> tuple[str, ...]:
    totals: dict[str, float] = {}
    _attribute(root, _REST, totals)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return tuple(f"{seconds / root.time:.0%} {label}" for label, seconds in ranked)


def _profile(
    edge: WebhookEdge, queue: _BuildOnlyQueue, case: Case, batch: Sequence[Prepared], work_dir: Path
) -> Profile:
    # Imported here: the profiler is a `make bench` extra, and `make test` imports this module.
    from pyinstrument import Profiler

    profiler = Profiler(interval=_PROFILE_INTERVAL_S, async_mode="disabled")
    profiler.start()
    try:
        asyncio.run(_drive(edge, queue, batch, case.messages))
    finally:
        profiler.stop()
    text_path = work_dir / "edge_cpu_profile.txt"
    html_path = work_dir / "edge_cpu_profile.html"
    text_path.write_text(
        profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8"
    )
    html_path.write_text(profiler.output_html(), encoding="utf-8")
    session = profiler.last_session
    root = session.root_frame() if session is not None else None
    if root is None or root.time <= 0:
        return Profile(text_path, html_path, (), ())
    return Profile(text_path, html_path, _top_functions(root, _TOP_FUNCTIONS), _steps(root))


def run(
    work_dir: Path,
    *,
    repeats: int = 7,
    seconds_per_case: float = 1.0,
    profile_seconds: float = 1.5,
) -> EdgeCpuResult:
    work_dir.mkdir(parents=True, exist_ok=True)
    env = environment.function_env(
        tasks_host=_UNUSED_HOST, functions={PROCESS_INBOUND: _WORKER_URL}
    )
    with _environ(env), _production_logging(env["ATENDE_LOG_LEVEL"]) as logging_on:
        edge, queue = _build_edge()
        cases = asyncio.run(_measure_all(edge, queue, repeats, seconds_per_case))
        target = cases[TARGET_CASE]
        count = max(_MIN_ITERATIONS, int(profile_seconds * 1e6 / target.median_us))
        serials = itertools.count(10_000_000)
        batch = _prepare(target.case, serials, count)
        profile = _profile(edge, queue, target.case, batch, work_dir)
    return EdgeCpuResult(cases, profile, logging_on)


def report(result: EdgeCpuResult) -> str:
    lines = [
        "Webhook edge CPU per delivery (verify + parse + build tasks, no HTTP framework)",
        f"logging: {'INFO, JSON to /dev/null' if result.logging_on else 'off'}",
        f"{'case':<20} {'bytes':>7} {'median µs':>10} {'min µs':>8} {'max µs':>8}"
        f" {'CPU µs':>8} {'n':>6}",
    ]
    for name, case in result.cases.items():
        lines.append(
            f"{name:<20} {case.body_bytes:>7} {case.median_us:>10.1f} "
            f"{min(case.repeats_us):>8.1f} {max(case.repeats_us):>8.1f} "
            f"{case.median_cpu_us:>8.1f} {case.iterations_per_repeat:>6}"
        )
    verdict = "met" if result.meets_target else "NOT met"
    lines.append(
        f"target: {TARGET_CASE} under {result.target_us:.0f} µs (median, wall clock): {verdict}"
    )
    lines.append(f"where the time goes ({TARGET_CASE}, sampled), by step:")
    lines.extend(f"  {entry}" for entry in result.profile.steps)
    lines.append("by function (own time):")
    lines.extend(f"  {entry}" for entry in result.profile.top_functions)
    lines.append(f"profile: {result.profile.path} (and {result.profile.html_path.name})")
    return "\n".join(lines) + "\n"


def figures(result: EdgeCpuResult) -> list[Figure]:
    """For `python -m bench`: the target row, the other sizes, where the time goes."""
    target = result.cases[TARGET_CASE]
    others = ", ".join(
        f"{name} {case.median_us:.0f}" for name, case in result.cases.items() if name != TARGET_CASE
    )
    logging_state = "on" if result.logging_on else "OFF"
    return [
        Figure(
            f"2. edge CPU {TARGET_CASE} (no HTTP)",
            f"{target.median_us:.0f} µs (CPU {target.median_cpu_us:.0f} µs)",
            f"< {result.target_us:.0f} µs",
            result.meets_target,
            f"INFO logging {logging_state}; by step: {', '.join(result.profile.steps)}; "
            f"by function: {', '.join(result.profile.top_functions)}; "
            f"profile: {result.profile.path}",
        ),
        Figure("2. edge CPU other deliveries", f"{others} µs", "(no target)", True),
    ]


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    result = run(repo / ".atende" / "bench" / "edge_cpu")
    sys.stdout.write(report(result))


if __name__ == "__main__":
    main()
