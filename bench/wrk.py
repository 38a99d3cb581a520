"""Load with wrk (a C load generator, Debian package `wrk`): each request is one of a set of
pre-signed deliveries, cycled, so every delivery carries its own message ids."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench import deliveries

_SCRIPT = r"""
local requests, n = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^(%S+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["X-Hub-Signature-256"] = signature,
    }, body)
  end
end
function request()
  n = n % #requests + 1
  return requests[n]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, " ..
    "\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    return path


def write_deliveries(path: Path, count: int, size: int, first_serial: int = 0) -> Path:
    """`count` signed deliveries of `size` bytes, one per line: `<signature> <body>`."""
    with path.open("wb") as out:
        for serial in range(first_serial, first_serial + count):
            body = deliveries.delivery(size, serial=serial)
            signature = deliveries.headers(body)["x-hub-signature-256"]
            out.write(signature.encode() + b" " + body + b"\n")
    return path


def run(url: str, bodies: Path, *, connections: int, seconds: float, work_dir: Path) -> LoadResult:
    script = work_dir / "deliveries.lua"
    script.write_text(_SCRIPT)
    argv = [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "5s",
            "-s", str(script), url, "--", str(bodies)]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next((row for row in out.stdout.splitlines() if row.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = sum(data[key] for key in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
    )
