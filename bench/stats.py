"""Summaries of latency samples (percentiles as workflows/load/stats.py defines them)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from workflows.load.stats import percentiles


def summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    p = percentiles(values, (50, 90, 99))
    return {"n": len(values), "p50": p["p50"] or 0.0, "p90": p["p90"] or 0.0, "p99": p["p99"] or 0.0,
            "mean": statistics.fmean(values), "min": min(values), "max": max(values)}


def ratio(a: float, b: float) -> float:
    return a / b if b else math.inf
