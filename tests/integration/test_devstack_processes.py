"""ManagedProcess and wait_http against real child processes on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from atende.devstack.processes import (
    ManagedProcess,
    PortInUseError,
    ensure_port_free,
    free_port,
    wait_http,
)

# A tiny HTTP server: GET /pid answers its pid, GET /exit kills it with os._exit(3), and with
# an argument it first starts a grandchild `sleep` and writes the grandchild's pid there.
CHILD = """
import os, subprocess, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
if len(sys.argv) > 2:
    grandchild = subprocess.Popen(["sleep", "300"])
    open(sys.argv[2], "w").write(str(grandchild.pid))
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/exit":
            os._exit(3)
        body = str(os.getpid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
print("child up", flush=True)
HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return str(response.read().decode())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists"; it is dead for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _child(tmp_path: Path, port: int, *extra: str, restart: bool = False) -> ManagedProcess:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    argv = [sys.executable, str(script), str(port), *extra]
    return ManagedProcess("child", argv, dict(os.environ), tmp_path / "child.log", restart)


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_supervised_process_comes_back_after_it_exits(tmp_path: Path) -> None:
    port = free_port()
    process = _child(tmp_path, port, restart=True)
    process.restart_delay = 0.05
    with process:
        wait_http(f"http://127.0.0.1:{port}/pid", 10, process)
        first = int(_get(f"http://127.0.0.1:{port}/pid"))
        assert first == process.pid
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(f"http://127.0.0.1:{port}/exit")
        _wait_until(lambda: process.restarts == 1 and process.pid not in (None, first))
        wait_http(f"http://127.0.0.1:{port}/pid", 10, process)
        second = int(_get(f"http://127.0.0.1:{port}/pid"))
        assert second != first
        assert second == process.pid
    assert process.pid is None
    assert not _alive(second)
    assert process.log_tail().count("child up") == 2


def test_unsupervised_process_stays_down_and_wait_http_says_so(tmp_path: Path) -> None:
    port = free_port()
    process = _child(tmp_path, port)
    with process:
        wait_http(f"http://127.0.0.1:{port}/pid", 10, process)
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(f"http://127.0.0.1:{port}/exit")
        _wait_until(lambda: process.returncode == 3)
        with pytest.raises(RuntimeError, match="exited with code 3") as failure:
            wait_http(f"http://127.0.0.1:{port}/pid", 10, process)
        assert "child up" in str(failure.value)  # the log tail comes with the error
        assert process.restarts == 0


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    port = free_port()
    grandchild_file = tmp_path / "grandchild.pid"
    process = _child(tmp_path, port, str(grandchild_file))
    with process:
        wait_http(f"http://127.0.0.1:{port}/pid", 10, process)
        grandchild = int(grandchild_file.read_text())
        assert _alive(grandchild)
    _wait_until(lambda: not _alive(grandchild), timeout=5)


def test_wait_http_times_out_with_the_log_tail(tmp_path: Path) -> None:
    script = tmp_path / "quiet.py"
    script.write_text("import time\nprint('still booting', flush=True)\ntime.sleep(60)\n")
    process = ManagedProcess(
        "quiet", [sys.executable, str(script)], dict(os.environ), tmp_path / "quiet.log"
    )
    with process:
        _wait_until(lambda: "still booting" in process.log_tail())
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="still booting"):
            wait_http(f"http://127.0.0.1:{free_port()}/", 0.5, process)
        assert time.monotonic() - started < 5


def test_ensure_port_free_names_what_wanted_the_port() -> None:
    ensure_port_free(free_port(), "anything")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} .the sandbox"):
            ensure_port_free(port, "the sandbox")


def _time_wait_on_a_port() -> int:
    """A port whose last connection sits in TIME_WAIT, as after `make dev` was stopped: a
    server that binds with SO_REUSEADDR (as uvicorn, the JVM and gRPC do) closes first, so
    the TIME_WAIT socket holds the server's port."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port: int = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the active close: this side goes to TIME_WAIT
        assert client.recv(1) == b""  # the FIN arrived
        client.close()
    return port


def test_a_port_left_in_time_wait_by_a_stopped_stack_is_free() -> None:
    port = _time_wait_on_a_port()
    # The situation is real: a plain bind (no SO_REUSEADDR) is refused for about a minute.
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    ensure_port_free(port, "Firestore emulator")
    # …and a server binding like uvicorn or the JVM (SO_REUSEADDR) takes it at once.
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()


def test_a_live_listener_on_a_port_in_time_wait_is_still_refused() -> None:
    port = _time_wait_on_a_port()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(
            PortInUseError,
            match=rf"port {port} \(Firestore emulator\) is already in use on 127\.0\.0\.1; "
            r"is another stack running\?",
        ):
            ensure_port_free(port, "Firestore emulator")


def test_supervisor_gives_up_on_a_crash_loop(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "print('crashing', flush=True); raise SystemExit(9)"]
    process = ManagedProcess("loop", argv, dict(os.environ), tmp_path / "loop.log", True)
    process.max_restarts, process.restart_delay = 2, 0.01
    with process:
        _wait_until(lambda: process.restarts == 2 and process.returncode == 9)
        time.sleep(0.5)
        assert process.restarts == 2  # no third restart
        assert not process.running
    assert process.log_tail().count("\ncrashing") == 3
