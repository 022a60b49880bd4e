"""Lambda's REPORT lines, read back from CloudWatch Logs: what each invocation was billed.

    reports = read_reports(logs, "fleet-inspect-car", start_ms, end_ms)   # any target's logs client
    [r.billed_ms for r in reports], [r.init_ms for r in reports if r.cold]
    function_summary(cloudwatch, logs, "fleet-inspect-car", start, end)  # its metrics and percentiles

Lambda writes one REPORT line per invocation to the function's group `/aws/lambda/<name>`
(on AWS, and on the local cloud: workflows/local/function_telemetry.py), with Duration, Billed
Duration, Memory Size, Max Memory Used and, on a cold start only, Init Duration. The cost model
and the console read the measured figures from here, whichever target wrote them; the console
also reads the function's CloudWatch metrics (Invocations, Errors, Throttles, ConcurrentExecutions).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_FIELDS = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): ([0-9.]+)")
_REQUEST = re.compile(r"^REPORT RequestId: (\S+)")


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None  # on a cold start only

    @property
    def cold(self) -> bool:
        return self.init_ms is not None


def parse_report(message: str) -> Report | None:
    """One REPORT line's figures; None for any other line."""
    head = _REQUEST.match(message)
    if not head:
        return None
    found = dict(_FIELDS.findall(message))
    if "Duration" not in found:
        return None
    duration = float(found["Duration"])
    init = float(found["Init Duration"]) if "Init Duration" in found else None
    billed = int(found.get("Billed Duration") or max(1, math.ceil(duration)))
    return Report(head.group(1), duration, billed, int(float(found.get("Memory Size", 0))),
                  int(float(found.get("Max Memory Used", 0))), init)


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def read_reports(logs: Any, function_name: str, start_ms: int | None = None, end_ms: int | None = None,
                 limit: int = 10_000) -> list[Report]:
    """The function's REPORT lines between two times (epoch ms; either open), oldest first; none
    when its log group does not exist (a function never invoked there)."""
    kwargs: dict[str, Any] = {"logGroupName": log_group(function_name), "filterPattern": '"REPORT RequestId"'}
    if start_ms is not None:
        kwargs["startTime"] = int(start_ms)
    if end_ms is not None:
        kwargs["endTime"] = int(end_ms)
    out: list[Report] = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
            for event in page.get("events", []):
                report = parse_report(event.get("message", ""))
                if report:
                    out.append(report)
            if len(out) >= limit:
                break
    except logs.exceptions.ResourceNotFoundException:
        return []
    return out[:limit]


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank, as CloudWatch's pNN of a metric's samples."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


#: Lambda's metrics for one function (namespace AWS/Lambda, dimension FunctionName) and the
#: statistic each is read with.
METRICS = (("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"), ("ConcurrentExecutions", "Maximum"))


def function_summary(cloudwatch: Any, logs: Any, function_name: str, start: datetime, end: datetime) -> dict[str, Any]:
    """What Lambda reported of one function between two times: Invocations, Errors and Throttles
    (sums) and the peak ConcurrentExecutions from its CloudWatch metrics; Duration p50 and p99,
    Billed Duration and cold starts with their Init Duration from its REPORT lines (CloudWatch
    computes percentiles from the samples, which a statistic set does not keep)."""
    period = max(60, math.ceil((end - start).total_seconds() / 60) * 60)
    out: dict[str, Any] = {}
    for metric, statistic in METRICS:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName=metric, Dimensions=[{"Name": "FunctionName", "Value": function_name}],
            StartTime=start, EndTime=end, Period=period, Statistics=[statistic])["Datapoints"]
        values = [p[statistic] for p in points]
        value = (max(values) if statistic == "Maximum" else sum(values)) if values else 0.0
        out[metric[0].lower() + metric[1:]] = int(value)
    reports = read_reports(logs, function_name, int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    durations = [r.duration_ms for r in reports]
    inits = [r.init_ms for r in reports if r.init_ms is not None]
    out.update({"reports": len(reports), "durationP50Ms": percentile(durations, 50),
                "durationP99Ms": percentile(durations, 99),
                "billedMs": sum(r.billed_ms for r in reports), "coldStarts": len(inits),
                "initP50Ms": percentile(inits, 50),
                "maxMemoryUsedMb": max((r.max_memory_mb for r in reports), default=None)})
    return out
