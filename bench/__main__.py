"""`make bench`: runs the five benchmarks of issue 6 in one go and prints one table.

    .venv/bin/python -m bench [--quick] [--strict] [--only edge_rate,edge_cpu,whole_path,cold_start]

Every comparison is measured side by side in this run. Results also go to
.bench/results.json (machine-readable) and the profiles to .bench/.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from bench import cold_start, edge_cpu, edge_rate, whole_path
from bench.report import Figure, render

ALL = ("edge_rate", "edge_cpu", "whole_path", "cold_start")


def _machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {key: _plain(item) for key, item in asdict(value).items()}
    return value


MEMORY_TARGET_MIB = 200.0


def memory_figures(memory: dict[str, dict[str, float]]) -> list[Figure]:
    """Benchmark 4: each function's peak RSS over benchmarks 1 and 3."""
    peaks: dict[str, tuple[float, str]] = {}
    for where, by_function in memory.items():
        for function, mib in by_function.items():
            if function != "bare" and mib > peaks.get(function, (0.0, ""))[0]:
                peaks[function] = (mib, where)
    return [
        Figure(f"4. peak RSS {function}", f"{mib:.0f} MiB ({where})",
               f"<= {MEMORY_TARGET_MIB:.0f} MiB", mib <= MEMORY_TARGET_MIB)
        for function, (mib, where) in sorted(peaks.items())
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (not for the record)")
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--out", type=Path, default=Path(".bench"))
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a figure misses its target"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    only = set(args.only.split(","))
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": _machine(), "started": time.strftime("%Y-%m-%d %H:%M")}
    figures: list[Figure] = []
    memory: dict[str, dict[str, float]] = {}
    say = sys.stderr.write
    if "edge_rate" in only:
        say("1/4 edge rate: webhook vs bare function under wrk (several minutes)…\n")
        rate = edge_rate.run(
            out / "edge_rate", seconds=5 if args.quick else 15, rounds=1 if args.quick else 3
        )
        results["edge_rate"] = edge_rate.summary(rate)
        figures += edge_rate.figures(rate)
        memory["benchmark 1"] = rate.peak_rss_mib
    if "edge_cpu" in only:
        say("2/4 edge CPU without HTTP: verify + parse + build tasks…\n")
        cpu = edge_cpu.run(out / "edge_cpu")
        results["edge_cpu"] = _plain(cpu)
        figures += edge_cpu.figures(cpu)
    if "whole_path" in only:
        say("3/4 whole path: 500 messages from 100 contacts (a few minutes)…\n")
        path = whole_path.run(out / "whole_path")
        results["whole_path"] = whole_path.summary(path)
        figures += whole_path.figures(path)
        memory["benchmark 3"] = path.peak_rss_mib
    if "cold_start" in only:
        say("4/4 cold start: process start to first 200…\n")
        cold = cold_start.run(out / "cold_start", starts=3 if args.quick else 5)
        results["cold_start"] = _plain(cold)
        figures += cold_start.figures(cold)
    figures += memory_figures(memory)
    results["peak_rss_mib"] = memory
    figures.sort(key=lambda figure: figure.name[:2])
    table = render(figures, machine=results["machine"])
    sys.stdout.write(table + "\n")
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "results.txt").write_text(table + "\n")
    missed = [figure.name for figure in figures if not figure.passed]
    if missed:
        say(f"{len(missed)} figure(s) miss their target; see docs/performance.md.\n")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
