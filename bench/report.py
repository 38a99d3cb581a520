"""One row per measured figure: value, target, pass/fail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    target: str
    passed: bool
    detail: str = ""


def render(figures: list[Figure], *, machine: str) -> str:
    rows = [("figure", "measured", "target", "result")]
    rows += [(f.name, f.value, f.target, "PASS" if f.passed else "FAIL") for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"Atende benchmarks — {machine}", ""]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    details = [f"  {f.name}: {f.detail}" for f in figures if f.detail]
    if details:
        lines += ["", "Details:", *details]
    return "\n".join(lines)
