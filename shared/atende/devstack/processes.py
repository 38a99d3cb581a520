"""Local child processes for the dev stack: start, supervise, stop, wait until they answer.

Every process runs in its own session (so its own process group); stopping kills the whole
group, so a JVM or a server's children never outlive the stack. Output goes to a log file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp

logger = logging.getLogger(__name__)

#: Loopback only, never through a proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PortInUseError(RuntimeError):
    """A port the stack wants is taken (often by a stack still running elsewhere)."""


#: How long the connect probe waits for a listener on the loopback interface.
_PROBE_TIMEOUT = 0.5


def ensure_port_free(port: int, what: str) -> None:
    """Raise PortInUseError if something listens on 127.0.0.1:`port` right now.

    Connections of a stack that just stopped stay in TIME_WAIT for about a minute on that
    port. They are not a running stack, and the servers we start bind with SO_REUSEADDR
    (uvicorn, the JVM, gRPC do), so they take the port at once: the check binds the same
    way. On Linux such a bind still fails while any socket LISTENS on the port; the connect
    probe also catches a listener where a platform lets the bind through (BSD semantics,
    a wildcard listener).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise _in_use(port, what) from exc
    if _accepts_connections(port):
        raise _in_use(port, what)


def _in_use(port: int, what: str) -> PortInUseError:
    return PortInUseError(
        f"port {port} ({what}) is already in use on 127.0.0.1; is another stack "
        "running? Stop it or choose another port."
    )


def _accepts_connections(port: int) -> bool:
    """Whether a listener answers on 127.0.0.1:`port` (a port in TIME_WAIT refuses)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=_PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def wait_http(url: str, timeout: float, process: ManagedProcess | None = None) -> None:
    """Poll `url` until it gives any HTTP answer below 500.

    Raises TimeoutError (with the process' log tail) when `timeout` seconds pass, and
    RuntimeError at once if `process` (not supervised) exits while we wait.
    """
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        try:
            with _OPENER.open(url, timeout=2.0) as response:
                if response.status < 500:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                exc.close()
                return
            exc.close()
            last_error = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last_error = repr(exc)
        if process is not None and not process.restart and process.returncode is not None:
            raise RuntimeError(
                f"{process.name} exited with code {process.returncode} before {url} "
                f"answered; log {process.log_path}:\n{process.log_tail()}"
            )
        if time.monotonic() >= deadline:
            where = f"; log {process.log_path}:\n{process.log_tail()}" if process else ""
            raise TimeoutError(f"{url} did not answer within {timeout:.0f}s ({last_error}){where}")
        time.sleep(0.1)


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, port: int | None = None, timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a thread of this process (tests that
    want real HTTP and in-process coverage); yields the base URL, stops on exit."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ManagedProcess:
    """One child process with its own process group, optionally restarted when it exits.

    With `restart=True` a supervisor thread starts the process again (after
    `restart_delay` seconds) whenever it exits while not being stopped; it gives up after
    `max_restarts` restarts in a row of a process that lived less than `stable_after` s.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        restart: bool = False,
        *,
        cwd: Path | None = None,
        max_restarts: int = 50,
        restart_delay: float = 0.2,
        stop_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        #: The child's complete environment; change it between stop() and start().
        self.env = dict(env)
        self.log_path = log_path
        self.restart = restart
        self.cwd = cwd
        self.max_restarts = max_restarts
        self.restart_delay = restart_delay
        self.stop_timeout = stop_timeout
        #: How many times the supervisor restarted the process since the last start().
        self.restarts = 0
        #: Restarts in a row of a process that died within `stable_after` seconds; past
        #: `max_restarts` the supervisor gives up (a crash loop, not an occasional crash).
        self.stable_after = 30.0
        self._rapid_restarts = 0
        self._spawned_at = 0.0
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def returncode(self) -> int | None:
        """The exit code of the current child, None while it runs (or before start)."""
        proc = self._proc
        return None if proc is None else proc.poll()

    @property
    def running(self) -> bool:
        return self.pid is not None

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"--- {stamp} starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        logger.info("started %s (pid %d), log %s", self.name, proc.pid, self.log_path)
        self._spawned_at = time.monotonic()
        return proc

    def start(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                raise RuntimeError(f"{self.name} is already running (pid {self._proc.pid})")
            self._stopping.clear()
            self.restarts = self._rapid_restarts = 0
            self._proc = self._spawn()
            if self.restart:
                self._supervisor = threading.Thread(
                    target=self._supervise, name=f"supervise-{self.name}", daemon=True
                )
                self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            # Reap whatever the dead child left in its group before starting anew.
            _kill_group(proc.pid, signal.SIGKILL)
            if time.monotonic() - self._spawned_at >= self.stable_after:
                self._rapid_restarts = 0
            if self._rapid_restarts >= self.max_restarts:
                logger.error("%s exited (code %s); gave up after %d quick restarts in a row",
                             self.name, code, self._rapid_restarts)  # fmt: skip
                return
            logger.warning("%s exited (code %s); restarting", self.name, code)
            if self._stopping.wait(self.restart_delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.restarts += 1
                self._rapid_restarts += 1
                self._proc = self._spawn()

    def stop(self) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after `stop_timeout`)."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s did not stop within %.0fs; killing it", self.name, self.stop_timeout
                )
            # Whatever is left in the group (the leader or its children) dies now.
            _kill_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=self.stop_timeout)
        supervisor = self._supervisor
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout=self.stop_timeout + 1.0)
        self._supervisor = None

    def __enter__(self) -> ManagedProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
