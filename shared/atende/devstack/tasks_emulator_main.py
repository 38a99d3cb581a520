"""Launch gcloud-tasks-emulator 0.6.2 bound to loopback, with a few fixes for local use.

Runs with the emulator's own virtualenv (it pins protobuf<5), so it must not import atende:
    <venv>/bin/python -I tasks_emulator_main.py --port 9022 \
        -d projects/P/locations/L/queues/Q [-d ...] [--max-retries N]

What it changes in the stock emulator:
- binds 127.0.0.1:PORT (the stock API thread binds [::]:PORT, whatever host it is given);
- gives each HTTP dispatch a deadline (the task's dispatch_deadline, else --dispatch-deadline),
  where the stock one waits forever and stalls the whole queue;
- retries a failed task after an exponential backoff (--min-backoff doubling up to
  --max-backoff) instead of every 0.1 s;
- rejects a task whose name was already used in the queue (ALREADY_EXISTS, like Cloud Tasks)
  until the queue is purged, unless --allow-duplicate-names;
- a purge also drops a task that was being dispatched while it ran, and a task that
  vanished mid-dispatch no longer kills the queue's worker thread;
- with --max-concurrent-dispatches N > 1, dispatches up to N tasks of a queue at once, as
  Cloud Tasks does (the stock emulator dispatches one at a time, which makes it, not the
  functions, the bottleneck of a load test).
Writes --ready-file once the gRPC server is serving.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib import error, request

import grpc
from gcloud_tasks_emulator import server
from google.api_core.exceptions import AlreadyExists, NotFound

logger = logging.getLogger("atende-tasks-emulator")

_options = argparse.Namespace(
    dispatch_deadline=600.0,
    min_backoff=0.1,
    max_backoff=1.0,
    allow_duplicate_names=False,
    max_concurrent_dispatches=1,
)
_HOST = "127.0.0.1"  # loopback only, always
_OPENER = request.build_opener(request.ProxyHandler({}))
_lock = threading.Lock()
_seen_names: dict[str, set[str]] = {}
_purges: dict[str, int] = {}


class LoopbackAPIThread(server.APIThread):
    """The stock API thread, but bound to host:port, and bound before the thread starts."""

    def __init__(self, state, host, port, *args, **kwargs):
        super().__init__(state, host, port, *args, **kwargs)
        # No SO_REUSEPORT: a second emulator on the same port must fail, not share it.
        self._httpd = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.so_reuseport", 0)]
        )
        server.add_CloudTasksServicer_to_server(server.Greeter(state), self._httpd)
        address = f"{host}:{port}"
        if self._httpd.add_insecure_port(address) == 0:
            raise RuntimeError(f"cannot bind {address}")
        self._address = address

    def run(self):
        logger.info("[API] Starting API server at %s", self._address)
        self._httpd.start()
        self._httpd.wait_for_termination()


def _make_task_request(queue_name, task, host, port):
    """The stock dispatcher for HTTP tasks, with a deadline."""
    if not task.http_request.url:
        return _stock_make_task_request(queue_name, task, host, port)
    headers = dict(task.http_request.headers)
    eta = task.schedule_time.timestamp() if task.schedule_time else ""
    headers.update(
        {
            "X-CloudTasks-QueueName": queue_name.rsplit("/", 1)[-1],
            "X-CloudTasks-TaskName": task.name.rsplit("/", 1)[-1],
            "X-CloudTasks-TaskRetryCount": str(task.dispatch_count - 1),
            "X-CloudTasks-TaskExecutionCount": str(task.dispatch_count - 1),
            "X-CloudTasks-TaskETA": str(eta),
        }
    )
    if not any(name.lower() == "user-agent" for name in headers):
        headers["User-Agent"] = "Google-Cloud-Tasks"
    body = task.http_request.body or None
    if body and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/octet-stream"
    req = request.Request(  # noqa: S310 - the task's own URL, as Cloud Tasks would call it
        task.http_request.url,
        method=task.http_request.http_method.name,
        data=body,
        headers=headers,
    )
    deadline = task.dispatch_deadline.total_seconds() if task.dispatch_deadline else 0.0
    logger.info("[TASKS] Dispatching %s: %s %s", task.name, req.method, req.full_url)
    try:
        with _OPENER.open(req, timeout=deadline or _options.dispatch_deadline) as response:
            response.read()
            logger.info("[TASKS] %s answered %d", task.name, response.status)
            return SimpleNamespace(status=response.status)
    except error.HTTPError as exc:
        exc.close()
        logger.info("[TASKS] %s answered %d", task.name, exc.code)
        raise


def _create_task(self, queue, task):
    if task.name and not _options.allow_duplicate_names:
        with _lock:
            seen = _seen_names.setdefault(queue, set())
            if task.name in seen:
                raise AlreadyExists(f"Requested entity already exists: {task.name}")
            seen.add(task.name)
    if not task.schedule_time:  # Cloud Tasks schedules a task for "now" by default
        task.schedule_time = datetime.now(UTC)
    created = _stock_create_task(self, queue, task)
    logger.info("[TASKS] Created %s", created.name)
    return created


def _purge_queue(self, queue_name):
    with _lock:
        _seen_names.pop(queue_name, None)
        _purges[queue_name] = _purges.get(queue_name, 0) + 1
    return _stock_purge_queue(self, queue_name)


def _submit_task(self, task_name, force_run=False):
    queue_name = task_name.rsplit("?", 1)[0].rsplit("/", 2)[0]
    purges = _purges.get(queue_name, 0)
    try:
        task = _stock_submit_task(self, task_name, force_run)
    except (NotFound, ValueError):
        if force_run:
            raise
        logger.info("[TASKS] Task %s vanished (purged?) before dispatch", task_name)
        return None
    pending = self._queue_tasks.get(queue_name, [])
    requeued = any(t is task for t in pending)
    if requeued and _purges.get(queue_name, 0) != purges:
        pending[:] = [t for t in pending if t is not task]
        logger.info("[TASKS] Dropped %s: its queue was purged while it ran", task_name)
    elif requeued and task.last_attempt and task.last_attempt.response_status.code >= 400:
        now = datetime.now(UTC)
        if not task.schedule_time or task.schedule_time <= now:
            count = max(task.dispatch_count, 1)
            backoff = min(_options.min_backoff * 2 ** (count - 1), _options.max_backoff)
            task.schedule_time = now + timedelta(seconds=backoff)
    return task


def _take_ready(state, queue_name, in_flight):
    """Remove and return the first task of the queue that is due, or None."""
    now = datetime.now(UTC)
    with _lock:
        pending = state._queue_tasks.get(queue_name, [])
        for index, task in enumerate(pending):
            if not task.schedule_time or task.schedule_time <= now:
                in_flight.add(task.name)
                return pending.pop(index)
    return None


def _dispatch(state, queue_name, task):
    """What the stock submit_task does once it has taken the task off its queue."""
    purges = _purges.get(queue_name, 0)
    task.dispatch_count += 1
    try:
        status = _make_task_request(queue_name, task, None, None).status
    except error.HTTPError as exc:
        status = exc.code
    except Exception as exc:  # connection refused, timeout…: the queue retries
        logger.info("[TASKS] %s failed: %s", task.name, exc)
        status = 500
    task.last_attempt = {"response_status": {"code": status}}
    if status < 400:
        return
    with _lock:
        if _purges.get(queue_name, 0) != purges or queue_name not in state._queue_tasks:
            return
        if state._max_retries >= 0 and task.dispatch_count > state._max_retries:
            logger.info("[TASKS] Giving up failed task %s", task.name)
            return
        count = max(task.dispatch_count, 1)
        backoff = min(_options.min_backoff * 2 ** (count - 1), _options.max_backoff)
        task.schedule_time = datetime.now(UTC) + timedelta(seconds=backoff)
        state._queue_tasks[queue_name].append(task)


def _process_queue_concurrently(self, queue):
    """Keeps up to --max-concurrent-dispatches tasks of `queue` in flight."""
    slots = threading.Semaphore(_options.max_concurrent_dispatches)
    in_flight: set[str] = set()
    pool = futures.ThreadPoolExecutor(_options.max_concurrent_dispatches)

    def run(task):
        try:
            _dispatch(self._state, queue, task)
        finally:
            with _lock:
                in_flight.discard(task.name)
            slots.release()

    while self._is_running.is_set() and queue in self._state._queue_tasks:
        if self._state.queue(queue).state != server.Queue.State.RUNNING:
            time.sleep(0.05)
            continue
        slots.acquire()
        task = _take_ready(self._state, queue, in_flight)
        if task is None:
            slots.release()
            time.sleep(0.01)
            continue
        pool.submit(run, task)
    pool.shutdown(wait=False)


_stock_make_task_request = server._make_task_request
_stock_create_task = server.QueueState.create_task
_stock_purge_queue = server.QueueState.purge_queue
_stock_submit_task = server.QueueState.submit_task


def _patch() -> None:
    server.APIThread = LoopbackAPIThread
    server._make_task_request = _make_task_request
    server.QueueState.create_task = _create_task
    server.QueueState.purge_queue = _purge_queue
    server.QueueState.submit_task = _submit_task
    if _options.max_concurrent_dispatches > 1:
        server.Processor._process_queue = _process_queue_concurrently


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Cloud Tasks emulator on loopback")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-d", "--default-queue", action="append", default=[])
    parser.add_argument("--max-retries", type=int, default=-1, help="-1: retry forever")
    parser.add_argument("--dispatch-deadline", type=float, default=600.0)
    parser.add_argument("--min-backoff", type=float, default=0.1)
    parser.add_argument("--max-backoff", type=float, default=1.0)
    parser.add_argument("--allow-duplicate-names", action="store_true")
    parser.add_argument("--max-concurrent-dispatches", type=int, default=1)
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # The stock logger notes every 0.1 s poll of a scheduled task; keep its warnings only.
    logging.getLogger("gcloud-tasks-emulator").setLevel(logging.WARNING)
    for name in (
        "dispatch_deadline",
        "min_backoff",
        "max_backoff",
        "allow_duplicate_names",
        "max_concurrent_dispatches",
    ):
        setattr(_options, name, getattr(args, name))
    _patch()
    emulator = server.create_server(
        _HOST, args.port, default_queue_names=args.default_queue, max_retries=args.max_retries
    )
    emulator.start()
    logger.info("[SERVER] serving on %s:%d, queues %s", _HOST, args.port, args.default_queue)
    if args.ready_file:
        args.ready_file.write_text(f"{_HOST}:{args.port}\n")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
