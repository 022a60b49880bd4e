"""What Lambda writes about each invocation, written to the local cloud as Lambda writes it to AWS:

- CloudWatch Logs: the group `/aws/lambda/<function>`, one stream per execution environment
  (`YYYY/MM/DD/[$LATEST]<id>`), with START, the function's own lines, END and REPORT (Duration,
  Billed Duration, Memory Size, Max Memory Used, and Init Duration on a cold start), so
  `aws logs tail /aws/lambda/fleet-inspect-car` against the endpoint shows them;
- CloudWatch metrics in the `AWS/Lambda` namespace, per `FunctionName`: Invocations, Errors,
  Throttles, Duration and ConcurrentExecutions, readable with GetMetricStatistics.

An observer of the LambdaRuntime (`LambdaRuntime.observers`): records are queued and written by
one background thread every `flush_s` (2 s: each PutLogEvents costs milliseconds of the local
cloud's CPU whatever its size, so fewer and larger batches), so an invocation never waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from workflows.local.lambda_runtime import InvocationRecord

NAMESPACE = "AWS/Lambda"
_ERRORS = ("error", "timeout", "oom", "init_error")


class FunctionTelemetry:
    def __init__(self, client: Callable[[str], Any], in_flight: Callable[[str], int] | None = None,
                 flush_s: float = 2.0):
        self._client = client  # the local cloud's clients, by service name
        self._in_flight = in_flight or (lambda _name: 0)
        self._flush_s = flush_s
        self._pending: list[tuple[InvocationRecord, int]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._groups: set[str] = set()
        self._streams: set[tuple[str, str]] = set()
        self._thread = threading.Thread(target=self._run, name="lambda-telemetry", daemon=True)
        self._thread.start()

    def observe(self, record: InvocationRecord) -> None:
        concurrent = self._in_flight(record.function.logical_id)
        with self._lock:
            self._pending.append((record, concurrent))

    def flush(self) -> None:
        """Write what is queued now (tests and `stop` call it; the thread does every flush_s)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self._write_logs([r for r, _ in batch])
            self._write_metrics(batch)
        except Exception:  # noqa: BLE001 - telemetry never takes the local cloud down
            pass

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._flush_s)
            self.flush()

    # --- CloudWatch Logs --------------------------------------------------------------------

    def _write_logs(self, records: list[InvocationRecord]) -> None:
        logs = self._client("logs")
        streams: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in records:
            group = f"/aws/lambda/{record.function.function_name}"
            stream = record.log_stream or "local"
            millis = int(record.ended_at * 1000)
            events = streams.setdefault((group, stream), [])
            events.extend({"timestamp": millis, "message": line.rstrip("\n")} for line in record.log_lines())
        for (group, stream), events in streams.items():
            if group not in self._groups:
                try:
                    logs.create_log_group(logGroupName=group)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass
                self._groups.add(group)
            if (group, stream) not in self._streams:
                try:
                    logs.create_log_stream(logGroupName=group, logStreamName=stream)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass
                self._streams.add((group, stream))
            events.sort(key=lambda e: e["timestamp"])
            for start in range(0, len(events), 5000):
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events[start:start + 5000])

    # --- CloudWatch metrics -----------------------------------------------------------------

    def _write_metrics(self, batch: list[tuple[InvocationRecord, int]]) -> None:
        """One statistic set per function and metric per flush (as the Lambda service aggregates
        before publishing), not a datum per invocation."""
        sets: dict[tuple[str, str, str], dict[str, float]] = {}
        latest: dict[str, float] = {}

        def add(function: str, name: str, unit: str, value: float) -> None:
            stats = sets.setdefault((function, name, unit), {"SampleCount": 0, "Sum": 0.0, "Minimum": value, "Maximum": value})
            stats["SampleCount"] += 1
            stats["Sum"] += value
            stats["Minimum"] = min(stats["Minimum"], value)
            stats["Maximum"] = max(stats["Maximum"], value)

        for record, concurrent in batch:
            name = record.function.function_name
            latest[name] = max(latest.get(name, 0.0), record.ended_at)
            if record.outcome == "throttled":
                add(name, "Throttles", "Count", 1)
                continue
            add(name, "Invocations", "Count", 1)
            add(name, "Errors", "Count", 1 if record.outcome in _ERRORS else 0)
            add(name, "Duration", "Milliseconds", record.duration_ms)
            add(name, "ConcurrentExecutions", "Count", max(concurrent, 1))
        data = [{"MetricName": metric, "Dimensions": [{"Name": "FunctionName", "Value": function}],
                 "Timestamp": datetime.fromtimestamp(latest[function], UTC), "StatisticValues": stats, "Unit": unit}
                for (function, metric, unit), stats in sets.items()]
        cloudwatch = self._client("cloudwatch")
        for start in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start:start + 500])
