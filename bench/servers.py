"""One function served as Cloud Functions serves it: `functions-framework --asgi` (gunicorn
with one uvicorn worker), on its own port, in its own process."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from atende.devstack.processes import ManagedProcess, free_port
from bench import procstat

REPO = Path(__file__).resolve().parent.parent
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def source_of(target: str) -> Path:
    """Where a function's main.py is: functions/<name>/ or, for the bare one, bench/bare/."""
    if target == "bare":
        return REPO / "bench" / "bare" / "main.py"
    return REPO / "functions" / target / "main.py"


def clean_env() -> dict[str, str]:
    """This environment, less anything that would configure Atende."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ATENDE_", "WHATSAPP_", "FIRESTORE_"))
    }


class FunctionServer:
    def __init__(
        self,
        target: str,
        env: Mapping[str, str],
        run_dir: Path,
        port: int | None = None,
        *,
        firestore_counts: Path | None = None,
    ) -> None:
        """With `firestore_counts`, the process counts its Firestore operations into that
        file (bench/firestore_ops.py); otherwise it is exactly the functions-framework CLI."""
        self.target = target
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.firestore_counts = firestore_counts
        args = ["--target", target, "--source", str(source_of(target)),
                "--asgi", "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        full_env = {**clean_env(), **env, "PYTHONUNBUFFERED": "1"}
        if firestore_counts is None:
            argv = [str(Path(sys.executable).parent / "functions-framework"), *args]
        else:
            argv = [sys.executable, "-m", "bench.firestore_ops", str(firestore_counts), *args]
            full_env["PYTHONPATH"] = str(REPO)
        run_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            target, argv, full_env, run_dir / f"{target}-{self.port}.log", cwd=run_dir
        )
        #: Seconds from spawning the process to its first answer below 500.
        self.cold_start: float | None = None

    @property
    def pid(self) -> int:
        pid = self.process.pid
        if pid is None:
            raise RuntimeError(f"{self.target} is not running:\n{self.process.log_tail()}")
        return pid

    def start(self, probe: tuple[str, bytes | None, Mapping[str, str]] | None = None) -> None:
        """Start and wait for the first answer; `probe` is (method, body, headers) of the
        request whose first success (2xx) marks the end of the cold start (default: GET /)."""
        method, body, headers = probe or ("GET", None, {})
        started = time.perf_counter()
        self.process.start()
        deadline = started + 60
        while True:
            request = urllib.request.Request(  # noqa: S310 - loopback
                self.url, data=body, method=method, headers=dict(headers)
            )
            try:
                with _OPENER.open(request, timeout=5) as response:
                    response.read()
                    if response.status < 300:
                        break
            except urllib.error.HTTPError as error:
                error.close()
            except OSError:
                pass
            if self.process.returncode is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"{self.target} did not start:\n{self.process.log_tail()}")
            time.sleep(0.005)
        self.cold_start = time.perf_counter() - started

    def firestore_operations(self) -> dict[str, int]:
        """What bench/firestore_ops.py counted so far ({} when not counting)."""
        if self.firestore_counts is None or not self.firestore_counts.exists():
            return {}
        counts: dict[str, int] = json.loads(self.firestore_counts.read_text())
        return counts

    def cpu_seconds(self) -> float:
        return procstat.cpu_seconds(self.pid)

    def peak_rss_mib(self) -> float:
        return procstat.peak_rss_mib(self.pid)

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> FunctionServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
