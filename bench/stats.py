"""Percentiles of a benchmark's samples, one definition for every figure."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0 ≤ q ≤ 1), interpolated between the two nearest samples, so the
    median of an even number of samples is the mean of the middle two (as statistics.median
    and numpy's default say) rather than whichever of them rounding picks."""
    if not values:
        raise ValueError("no samples")
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within [0, 1], not {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
