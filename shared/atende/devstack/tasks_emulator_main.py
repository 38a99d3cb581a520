"""Launch gcloud-tasks-emulator 0.6.2 bound to loopback, behaving like Cloud Tasks where we
depend on it.

Runs with the emulator's own virtualenv (it pins protobuf<5), so it must not import atende:
    <venv>/bin/python -I tasks_emulator_main.py --port 9022 \
        -d projects/P/locations/L/queues/Q [-d ...] [--queue-config FILE] [--grants FILE]

What it changes in the stock emulator, and the Cloud Tasks documentation each point follows
(Cloud Tasks v2 API reference and https://cloud.google.com/tasks/docs/quotas unless noted):

- binds 127.0.0.1:PORT (the stock API thread binds [::]:PORT, whatever host it is given);
- IAM per caller (--grants FILE, JSON {"<identity>": ["<queue id>", ...]}): every gRPC call may
  carry the metadata entry `x-atende-identity: <function name>`. A function may only create
  tasks (roles/cloudtasks.enqueuer holds cloudtasks.tasks.create) in the queues granted to it;
  anything else is PERMISSION_DENIED with the message Cloud Tasks gives: `The principal (user
  or service account) lacks IAM permission "cloudtasks.tasks.create" for the resource
  "projects/P/locations/L/queues/Q" (or the resource may not exist).` (as reported from the
  real service in googleapis/repo-automation-bots#5598 and TEAMMATES/teammates#10974). No
  identity, or `atende-cli`, is the operator: allowed everything. Without --grants, everyone
  is allowed everything;
- a task over 1 MB is refused with INVALID_ARGUMENT "Task size too large" (quotas page:
  "Maximum task size: 1 MB"; the message is the real one, e.g.
  googleapis/repo-automation-bots#893). What counts is the serialized Task as the client sent
  it, and 1 MB is read as 1,000,000 bytes, the stricter reading (--max-task-bytes);
- task de-duplication: a name is ALREADY_EXISTS ("Requested entity already exists") while its
  task exists, and for --tombstone-seconds (default 3600) after the task was deleted,
  completed or dropped after its last attempt (CreateTaskRequest.task: "another task with
  the same name can't be created for ~1 hour after the original task was deleted or
  executed"; quotas: "Task de-duplication window ~1 hour"), then it may be used again.
  Deviation, on purpose: a purge forgets the queue's names at once (PurgeQueue: "Purges a
  queue by deleting all of its tasks", so Cloud Tasks would keep refusing them for the hour);
  the tests purge between tests and reuse names;
- per-queue retries like RetryConfig (--queue-config FILE, JSON {"<queue id>": {"max_attempts":
  50, "min_backoff_seconds": 1, "max_backoff_seconds": 300, "max_doublings": 4}}, the shape of
  Terraform's queue_settings; queues not in the file use --max-retries/--min-backoff/
  --max-backoff/--max-doublings). RetryConfig.max_attempts: "Number of attempts per task,
  including the first attempt ... -1 indicates unlimited attempts ... no further attempts are
  made, and the task is deleted". RetryConfig.max_doublings: "A task's retry interval starts
  at min_backoff, then doubles max_doublings times, then increases linearly, and finally
  retries at intervals of max_backoff up to max_attempts times. For example, if min_backoff is
  10s, max_backoff is 300s, and max_doublings is 3, then the a task will first be retried in
  10s. The retry interval will double three times, and then increase linearly by 2^3 * 10s.
  ... Thus, the requests will retry at 10s, 20s, 40s, 80s, 160s, 240s, 300s, 300s, ....";
- success is a 2xx answer only, and redirects are not followed (HttpRequest: "If the worker ...
  acknowledges the task by returning a successful HTTP response code ([200 - 299]) ... If any
  other HTTP response code is returned or no response is received, the task will be retried");
- the headers of an HTTP target task (Firebase TaskContext reference, which documents the
  X-CloudTasks-* headers it is populated from): X-CloudTasks-QueueName, -TaskName,
  -TaskRetryCount ("The number of times this task has been retried. For the first attempt,
  this value is 0. This number includes attempts where the task failed due to 5XX error codes
  and never reached the execution phase"), -TaskExecutionCount ("The total number of times
  that the task has received a response from the handler"; an attempt that got no response,
  such as a refused connection or a missed deadline, does not count, like Task.response_count:
  "The number of attempts which have received a response"), -TaskETA ("The schedule time of
  the task ... in seconds since January 1st 1970"), and on retries the optional
  -TaskPreviousResponse ("The HTTP response code from the previous retry"; left out when the
  previous attempt got no response) and -TaskRetryReason ("The reason for retrying the task";
  its values are not documented, so ours is free text for people, not for code);
- each HTTP dispatch has a deadline (the task's dispatch_deadline, else --dispatch-deadline),
  where the stock one waits forever and stalls the whole queue;
- up to --max-concurrent-dispatches tasks of a queue are dispatched at once (the stock
  emulator dispatches one at a time); ListTasks lists running tasks too; DeleteTask and GetTask
  work; a purge also drops a task that was running while it happened.
Writes --ready-file once the gRPC server is serving.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import secrets
import threading
import time
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib import error, request

import grpc
from gcloud_tasks_emulator import server
from google.api_core.exceptions import AlreadyExists, InvalidArgument
from google.cloud.tasks_v2 import ListTasksResponse, Task
from google.protobuf import empty_pb2

logger = logging.getLogger("atende-tasks-emulator")

_HOST = "127.0.0.1"  # loopback only, always
IDENTITY_METADATA = "x-atende-identity"
ADMIN_IDENTITY = "atende-cli"
MAX_TASK_BYTES = 1_000_000
_NOT_FOUND = "Requested entity was not found."
_NO_QUEUE = (
    "Queue does not exist. If you just created the queue, wait at least a minute for the "
    "queue to initialize."
)
_RECENTLY_ENDED = (
    "The task no longer exists, though a task with this name existed recently. "
    "The task either successfully completed or was deleted."
)


class RetryConfig:
    """A queue's RetryConfig: attempts (-1: unlimited) and the backoff between them."""

    def __init__(self, max_attempts, min_backoff, max_backoff, max_doublings):
        if max_attempts < -1 or max_attempts == 0:
            raise ValueError(f"max_attempts must be -1 or at least 1, not {max_attempts}")
        if not 0 <= min_backoff <= max_backoff or max_doublings < 0:
            raise ValueError("need 0 <= min_backoff <= max_backoff and max_doublings >= 0")
        self.max_attempts = max_attempts
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.max_doublings = max_doublings

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1: the first retry)."""
        doublings = min(retry - 1, self.max_doublings)
        interval = self.min_backoff * 2**doublings
        linear_steps = retry - 1 - doublings  # after the doublings, + 2^doublings * min each
        return min(interval * (1 + linear_steps), self.max_backoff)

    def last_attempt(self, attempts: int) -> bool:
        return 0 <= self.max_attempts <= attempts


_options = argparse.Namespace(
    dispatch_deadline=600.0,
    allow_duplicate_names=False,
    max_concurrent_dispatches=1,
    tombstone_seconds=3600.0,
    max_task_bytes=MAX_TASK_BYTES,
    default_retry=RetryConfig(-1, 0.1, 1.0, 16),
    queue_retry={},  # queue id -> RetryConfig
    grants=None,  # identity -> set of queue ids; None: no IAM
    grants_file=None,  # re-read when it changes, as a changed IAM policy applies
    grants_mtime=None,
)


class _NoRedirect(request.HTTPRedirectHandler):
    """Cloud Tasks does not follow redirects: a 3xx is a failed attempt."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = request.build_opener(request.ProxyHandler({}), _NoRedirect())
_lock = threading.Lock()
_purges: dict[str, int] = {}


class _Names:
    """The task names of one queue: live (pending or running) or ended, with an expiry."""

    def __init__(self) -> None:
        self.live: set[str] = set()
        self.ended: dict[str, float] = {}
        self._expiries: collections.deque[tuple[float, str]] = collections.deque()

    def _forget_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expiry, name = self._expiries.popleft()
            if self.ended.get(name) == expiry:
                del self.ended[name]

    def taken(self, name: str) -> bool:
        self._forget_expired(time.monotonic())
        return name in self.live or name in self.ended

    def recently_ended(self, name: str) -> bool:
        self._forget_expired(time.monotonic())
        return name in self.ended

    def end(self, name: str) -> None:
        self.live.discard(name)
        expiry = time.monotonic() + _options.tombstone_seconds
        self.ended[name] = expiry
        self._expiries.append((expiry, name))


_names: dict[str, _Names] = collections.defaultdict(_Names)
#: Tasks being dispatched, by queue and name (ListTasks lists them, like Cloud Tasks).
_running: dict[str, dict[str, Task]] = collections.defaultdict(dict)
#: Running tasks deleted by DeleteTask: not retried when their attempt fails.
_deleted_running: set[str] = set()
#: Task name -> (HTTP status of its last attempt or None, why it is retried).
_previous: dict[str, tuple[int | None, str]] = {}


def _queue_of(name: str) -> str:
    return name.split("/tasks/", 1)[0]


def _queue_id(path: str) -> str:
    return _queue_of(path).rsplit("/", 1)[-1]


def _retry_config(queue_name: str) -> RetryConfig:
    return _options.queue_retry.get(_queue_id(queue_name), _options.default_retry)


def _task_ended(queue_name: str, name: str) -> None:
    """Under _lock: the task is gone; its name stays refused for the tombstone time."""
    _previous.pop(name, None)
    if not _options.allow_duplicate_names:
        _names[queue_name].end(name)


# -- IAM ------------------------------------------------------------------------------------


def _permission_denied(permission: str, resource: str) -> str:
    return (
        f'The principal (user or service account) lacks IAM permission "{permission}" for the '
        f'resource "{resource}" (or the resource may not exist).'
    )


def _authorize(context, permission: str, resource: str) -> None:
    """Abort with PERMISSION_DENIED unless the caller may do `permission` on `resource`."""
    _reload_grants()
    if _options.grants is None:
        return
    identity = dict(context.invocation_metadata()).get(IDENTITY_METADATA) or ""
    if identity in ("", ADMIN_IDENTITY):
        return  # the operator, the CLI, the tests
    granted = _options.grants.get(identity, ())
    if permission == "cloudtasks.tasks.create" and _queue_id(resource) in granted:
        return
    logger.warning(
        "[IAM] refused %s to identity %s on queue %s", permission, identity, _queue_id(resource)
    )
    context.abort(grpc.StatusCode.PERMISSION_DENIED, _permission_denied(permission, resource))


def _guarded(permission: str, resource_of):
    """Wrap a servicer method: check the caller's permission on the request's resource."""

    def wrap(method):
        def guarded(self, request_, context):
            _authorize(context, permission, resource_of(request_))
            return method(self, request_, context)

        guarded.__name__ = method.__name__
        return guarded

    return wrap


def _by_name(request_) -> str:
    return request_.name


def _by_parent(request_) -> str:
    return request_.parent


class ParityGreeter(server.Greeter):
    """The stock servicer with IAM per caller, and the task calls it lacks or gets wrong."""

    @_guarded("cloudtasks.tasks.create", _by_parent)
    def CreateTask(self, request_, context):
        return super().CreateTask(request_, context)

    @_guarded("cloudtasks.tasks.list", _by_parent)
    def ListTasks(self, request_, context):
        queue_name = request_.parent
        with _lock:
            pending = self._state._queue_tasks.get(queue_name)
            if pending is None:
                context.abort(grpc.StatusCode.NOT_FOUND, _NO_QUEUE)
            tasks = list(pending) + list(_running[queue_name].values())
        return ListTasksResponse(tasks=tasks)

    @_guarded("cloudtasks.tasks.get", _by_name)
    def GetTask(self, request_, context):
        queue_name = _queue_of(request_.name)
        with _lock:
            for task in self._state._queue_tasks.get(queue_name, []):
                if task.name == request_.name:
                    return task
            running = _running[queue_name].get(request_.name)
            if running is not None:
                return running
            ended = _names[queue_name].recently_ended(request_.name)
        context.abort(grpc.StatusCode.NOT_FOUND, _RECENTLY_ENDED if ended else _NOT_FOUND)

    @_guarded("cloudtasks.tasks.delete", _by_name)
    def DeleteTask(self, request_, context):
        name, queue_name = request_.name, _queue_of(request_.name)
        with _lock:
            pending = self._state._queue_tasks.get(queue_name, [])
            kept = [task for task in pending if task.name != name]
            if len(kept) < len(pending):
                pending[:] = kept
            elif _running[queue_name].pop(name, None) is not None:
                _deleted_running.add(name)
            else:
                context.abort(grpc.StatusCode.NOT_FOUND, _NOT_FOUND)
            _task_ended(queue_name, name)
        logger.info("[TASKS] Deleted %s", name)
        return empty_pb2.Empty()

    @_guarded("cloudtasks.tasks.run", _by_name)
    def RunTask(self, request_, context):
        queue_name = _queue_of(request_.name)
        with _lock:
            pending = self._state._queue_tasks.get(queue_name, [])
            found = [task for task in pending if task.name == request_.name]
            if not found:
                context.abort(grpc.StatusCode.NOT_FOUND, _NOT_FOUND)
            task = found[0]
            pending[:] = [t for t in pending if t is not task]
            _running[queue_name][task.name] = task
        _dispatch(self._state, queue_name, task)
        return task


# The queue calls keep the stock behaviour, behind the same IAM check.
for _rpc, _permission, _resource in (
    ("GetQueue", "cloudtasks.queues.get", _by_name),
    ("ListQueues", "cloudtasks.queues.list", _by_parent),
    ("CreateQueue", "cloudtasks.queues.create", _by_parent),
    ("UpdateQueue", "cloudtasks.queues.update", lambda r: r.queue.name),
    ("DeleteQueue", "cloudtasks.queues.delete", _by_name),
    ("PurgeQueue", "cloudtasks.queues.purge", _by_name),
    ("PauseQueue", "cloudtasks.queues.pause", _by_name),
    ("ResumeQueue", "cloudtasks.queues.resume", _by_name),
):
    setattr(ParityGreeter, _rpc, _guarded(_permission, _resource)(getattr(server.Greeter, _rpc)))


class LoopbackAPIThread(server.APIThread):
    """The stock API thread, but bound to host:port, and bound before the thread starts."""

    def __init__(self, state, host, port, *args, **kwargs):
        super().__init__(state, host, port, *args, **kwargs)
        # No SO_REUSEPORT: a second emulator on the same port must fail, not share it.
        self._httpd = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.so_reuseport", 0)]
        )
        server.add_CloudTasksServicer_to_server(ParityGreeter(state), self._httpd)
        address = f"{host}:{port}"
        if self._httpd.add_insecure_port(address) == 0:
            raise RuntimeError(f"cannot bind {address}")
        self._address = address

    def run(self):
        logger.info("[API] Starting API server at %s", self._address)
        self._httpd.start()
        self._httpd.wait_for_termination()


# -- creating and purging -------------------------------------------------------------------


def _create_task(self, queue, task):
    size = len(Task.serialize(task))
    if size > _options.max_task_bytes:
        logger.warning("[TASKS] Refused a task of %d bytes in %s: too large", size, queue)
        raise InvalidArgument("Task size too large")
    if task.name and _queue_of(task.name) != queue:
        raise InvalidArgument(
            f"The queue name from request ('{queue}') must be the same as the queue name in "
            f"the named task ('{_queue_of(task.name)}')."
        )
    if not task.name:  # Cloud Tasks picks a random id (the stock one a clock, which collides)
        task.name = f"{queue}/tasks/{secrets.randbelow(10**19)}"
    if not task.schedule_time:  # Cloud Tasks schedules a task for "now" by default
        task.schedule_time = datetime.now(UTC)
    with _lock:  # DeleteTask and RunTask rewrite the pending list under it
        if queue in self._queue_tasks and not _options.allow_duplicate_names:
            names = _names[queue]
            if names.taken(task.name):
                raise AlreadyExists("Requested entity already exists")
            names.live.add(task.name)
        created = _stock_create_task(self, queue, task)
    logger.info("[TASKS] Created %s", created.name)
    return created


def _purge_queue(self, queue_name):
    with _lock:
        _names.pop(queue_name, None)
        _purges[queue_name] = _purges.get(queue_name, 0) + 1
        _running.pop(queue_name, None)
        for name in [name for name in _previous if _queue_of(name) == queue_name]:
            del _previous[name]
        return _stock_purge_queue(self, queue_name)


# -- dispatching ----------------------------------------------------------------------------


def _make_task_request(queue_name, task, retry_count, execution_count, previous):
    """Send one attempt of an HTTP task, with Cloud Tasks' headers and a deadline."""
    headers = {
        name: value
        for name, value in task.http_request.headers.items()
        if not name.lower().startswith("x-cloudtasks-")  # service headers: ours replace them
    }
    eta = task.schedule_time.timestamp() if task.schedule_time else ""
    headers.update(
        {
            "X-CloudTasks-QueueName": _queue_id(queue_name),
            "X-CloudTasks-TaskName": task.name.rsplit("/", 1)[-1],
            "X-CloudTasks-TaskRetryCount": str(retry_count),
            "X-CloudTasks-TaskExecutionCount": str(execution_count),
            "X-CloudTasks-TaskETA": str(eta),
        }
    )
    if previous is not None:
        previous_status, reason = previous
        if previous_status is not None:
            headers["X-CloudTasks-TaskPreviousResponse"] = str(previous_status)
        headers["X-CloudTasks-TaskRetryReason"] = reason
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
    with _OPENER.open(req, timeout=deadline or _options.dispatch_deadline) as response:
        response.read()
        logger.info("[TASKS] %s answered %d", task.name, response.status)
        return SimpleNamespace(status=response.status)


def _attempt(state, queue_name, task, retry_count, execution_count, previous):
    """One attempt: (HTTP status or None when no response came, why it failed)."""
    if not task.http_request.url:  # an App Engine task: the stock dispatcher
        try:
            stock = _stock_make_task_request(
                queue_name, task, state._target_host, state._target_port
            )
            return stock.status, f"HTTP {stock.status}"
        except error.HTTPError as exc:
            exc.close()
            return exc.code, f"HTTP {exc.code}"
        except Exception as exc:
            return None, f"no response: {type(exc).__name__}"
    try:
        response = _make_task_request(queue_name, task, retry_count, execution_count, previous)
        return response.status, f"HTTP {response.status}"
    except error.HTTPError as exc:
        exc.close()
        logger.info("[TASKS] %s answered %d", task.name, exc.code)
        return exc.code, f"HTTP {exc.code}"
    except Exception as exc:  # connection refused, deadline exceeded…: no response
        logger.info("[TASKS] %s got no response: %s", task.name, exc)
        return None, f"no response: {type(exc).__name__}"


def _dispatch(state, queue_name, task):
    """Dispatch a task taken off its queue (it is in _running); then end it or retry it."""
    purges = _purges.get(queue_name, 0)
    with _lock:
        previous = _previous.get(task.name)
    retry_count, execution_count = task.dispatch_count, task.response_count
    task.dispatch_count += 1
    status, reason = _attempt(state, queue_name, task, retry_count, execution_count, previous)
    if status is not None:
        task.response_count += 1
        task.last_attempt = {"response_status": {"code": status}}
    with _lock:
        if _running[queue_name].get(task.name) is task:
            del _running[queue_name][task.name]
        if task.name in _deleted_running:  # DeleteTask ended it while it ran
            _deleted_running.discard(task.name)
            return
        if _purges.get(queue_name, 0) != purges or queue_name not in state._queue_tasks:
            return  # purged (its name forgotten) or its queue deleted
        if status is not None and 200 <= status < 300:
            _task_ended(queue_name, task.name)
            return
        config = _retry_config(queue_name)
        if config.last_attempt(task.dispatch_count):
            logger.warning(
                "[TASKS] Dropped %s after its last attempt (%d of %d)",
                task.name,
                task.dispatch_count,
                config.max_attempts,
            )
            _task_ended(queue_name, task.name)
            return
        _previous[task.name] = (status, reason)
        backoff = config.backoff(task.dispatch_count)
        task.schedule_time = datetime.now(UTC) + timedelta(seconds=backoff)
        state._queue_tasks[queue_name].append(task)


def _take_ready(state, queue_name):
    """Remove and return the first task of the queue that is due (now running), or None."""
    now = datetime.now(UTC)
    with _lock:
        pending = state._queue_tasks.get(queue_name, [])
        for index, task in enumerate(pending):
            if not task.schedule_time or task.schedule_time <= now:
                _running[queue_name][task.name] = task
                return pending.pop(index)
    return None


def _process_queue(self, queue):
    """Keeps up to --max-concurrent-dispatches tasks of `queue` in flight."""
    slots = threading.Semaphore(_options.max_concurrent_dispatches)
    pool = futures.ThreadPoolExecutor(_options.max_concurrent_dispatches)

    def run(task):
        try:
            _dispatch(self._state, queue, task)
        except Exception:
            logger.exception("[TASKS] dispatching %s failed", task.name)
        finally:
            slots.release()

    while self._is_running.is_set() and queue in self._state._queue_tasks:
        if self._state.queue(queue).state != server.Queue.State.RUNNING:
            time.sleep(0.05)
            continue
        slots.acquire()
        task = _take_ready(self._state, queue)
        if task is None:
            slots.release()
            time.sleep(0.01)
            continue
        pool.submit(run, task)
    pool.shutdown(wait=False)


_stock_make_task_request = server._make_task_request
_stock_create_task = server.QueueState.create_task
_stock_purge_queue = server.QueueState.purge_queue


def _patch() -> None:
    server.APIThread = LoopbackAPIThread
    server.QueueState.create_task = _create_task
    server.QueueState.purge_queue = _purge_queue
    server.Processor._process_queue = _process_queue


# -- configuration --------------------------------------------------------------------------


def _load_queue_configs(path: Path) -> dict[str, RetryConfig]:
    """{"<queue id>": {"max_attempts", "min_backoff_seconds", "max_backoff_seconds",
    "max_doublings"} (other keys, such as rate limits, ignored)}."""
    configs = {}
    for queue, values in json.loads(path.read_text()).items():
        configs[queue] = RetryConfig(
            int(values["max_attempts"]),
            float(values["min_backoff_seconds"]),
            float(values["max_backoff_seconds"]),
            int(values["max_doublings"]),
        )
    return configs


def _reload_grants() -> None:
    """A grants file that changed since it was read is read again (an IAM policy change
    applies to the next call; the dev stack rewrites the file to change a grant)."""
    path = _options.grants_file
    if path is None:
        return
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return
    if mtime != _options.grants_mtime:
        with _lock:
            _options.grants = _load_grants(path)
            _options.grants_mtime = mtime
        logger.info("[IAM] grants read from %s", path)


def _load_grants(path: Path) -> dict[str, frozenset[str]]:
    """{"<identity>": ["<queue id>", ...]}."""
    grants = json.loads(path.read_text())
    if not isinstance(grants, dict) or not all(isinstance(q, list) for q in grants.values()):
        raise ValueError(f"{path}: expected {{identity: [queue id, ...]}}")
    return {identity: frozenset(queues) for identity, queues in grants.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Cloud Tasks emulator on loopback")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-d", "--default-queue", action="append", default=[])
    parser.add_argument("--max-retries", type=int, default=-1, help="-1: retry forever")
    parser.add_argument("--dispatch-deadline", type=float, default=600.0)
    parser.add_argument("--min-backoff", type=float, default=0.1)
    parser.add_argument("--max-backoff", type=float, default=1.0)
    parser.add_argument("--max-doublings", type=int, default=16)
    parser.add_argument("--queue-config", type=Path, help="JSON: queue id -> retry config")
    parser.add_argument("--grants", type=Path, help="JSON: identity -> [queue id, ...]")
    parser.add_argument("--tombstone-seconds", type=float, default=3600.0)
    parser.add_argument("--max-task-bytes", type=int, default=MAX_TASK_BYTES)
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
        "allow_duplicate_names",
        "tombstone_seconds",
        "max_task_bytes",
    ):
        setattr(_options, name, getattr(args, name))
    _options.max_concurrent_dispatches = max(1, args.max_concurrent_dispatches)
    # --max-retries counts retries, RetryConfig.max_attempts counts the first attempt too.
    _options.default_retry = RetryConfig(
        args.max_retries + 1 if args.max_retries >= 0 else -1,
        args.min_backoff,
        args.max_backoff,
        args.max_doublings,
    )
    if args.queue_config:
        _options.queue_retry = _load_queue_configs(args.queue_config)
    if args.grants:
        _options.grants_file = args.grants
        _reload_grants()
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
