"""The one definition of a percentile in the project: the standard library's
`statistics.quantiles(values, n=100, method="inclusive")`, linear between the closest ranks
(numpy's default), which `fleet load` and the benchmarks both report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

METHOD = 'statistics.quantiles(n=100, method="inclusive")'
POINTS = (50, 90, 95, 99)


def percentile(values: Sequence[float], q: int) -> float | None:
    """The q-th percentile (1..99) of the values; None when there are none."""
    return percentiles(values, (q,))[f"p{q}"]


def percentiles(values: Sequence[float], points: Sequence[int] = POINTS) -> dict[str, float | None]:
    """p50, p90, p95, p99 (or the points asked for) and max, in the values' unit; None when there are none."""
    if not values:
        return {**{f"p{q}": None for q in points}, "max": None}
    if len(values) == 1:
        cuts = [float(values[0])] * 99
    else:
        cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {**{f"p{q}": cuts[q - 1] for q in points}, "max": float(max(values))}
