"""CloudWatch Logs and metrics kept bounded, as a long-running local cloud needs: AWS keeps a log
group's events for its retention period and a metric's data for 15 months in storage outside any
process, while moto keeps every event and datum in the Python heap for as long as it runs (every
invocation's START, END, REPORT and log lines: about 4 KB per registration, growing without end).

Here each log group keeps its newest LOG_EVENTS_PER_GROUP events and each metric (namespace, name
and dimensions) its newest DATA_PER_METRIC data; what is older is dropped, oldest first. Trimming
runs once a group, or the metric data as a whole (DATA_PER_METRIC per metric), has grown a quarter
past its bound, so a write costs O(1) amortised."""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend
from moto.logs.models import LogGroup

from workflows.local.adapter.seam import Seam

LOG_EVENTS_PER_GROUP = 10_000
DATA_PER_METRIC = 1_000  # the telemetry writes a statistic set per function and metric every 2 s

_lock = threading.Lock()
_group_events: dict[int, int] = {}  # id(log group) -> events it holds, as counted here
_metrics_seen: dict[int, int] = {}  # id(CloudWatch backend) -> metrics it held when last trimmed


def _bounded_logs(put_log_events: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(put_log_events)
    def run(group: Any, log_stream_name: str, log_events: list[dict[str, Any]]) -> Any:
        answer = put_log_events(group, log_stream_name, log_events)
        with _lock:
            held = _group_events.get(id(group), 0) + len(log_events)
            if held > LOG_EVENTS_PER_GROUP * 5 // 4:
                held = trim_group(group, LOG_EVENTS_PER_GROUP)
            _group_events[id(group)] = held
        return answer

    return run


def trim_group(group: Any, keep: int) -> int:
    """Drop a group's oldest events beyond `keep` (its streams' events are in time order)."""
    streams = list(group.streams.values())
    stamps = sorted(event.timestamp for stream in streams for event in stream.events)
    if len(stamps) <= keep:
        return len(stamps)
    cutoff = stamps[len(stamps) - keep]  # the oldest timestamp kept
    for stream in streams:
        stream.events = [event for event in stream.events if event.timestamp >= cutoff]
    return sum(len(stream.events) for stream in streams)


def _bounded_metrics(put_metric_data: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(put_metric_data)
    def run(backend: Any, namespace: str, metric_data: list[dict[str, Any]]) -> Any:
        answer = put_metric_data(backend, namespace, metric_data)
        with _lock:
            if len(backend.metric_data) > _metric_bound(backend) * 5 // 4:
                trim_metrics(backend, DATA_PER_METRIC)
        return answer

    return run


def _metric_bound(backend: Any) -> int:
    """DATA_PER_METRIC for each metric there is (counted when last trimmed)."""
    return max(1, _metrics_seen.get(id(backend), 1)) * DATA_PER_METRIC


def trim_metrics(backend: Any, keep: int) -> None:
    """Keep each metric's newest `keep` data (the list is in the order they were put)."""
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    kept = []
    for datum in reversed(backend.metric_data):
        series = (datum.namespace, datum.name, tuple((d.name, d.value) for d in datum.dimensions))
        counts[series] += 1
        if counts[series] <= keep:
            kept.append(datum)
    kept.reverse()
    backend.metric_data = kept
    _metrics_seen[id(backend)] = len(counts)


SEAM = Seam(__name__, "CloudWatch Logs events and metric data bounded per log group and per metric")
SEAM.wrap(LogGroup, "put_log_events", _bounded_logs)
SEAM.wrap(CloudWatchBackend, "put_metric_data", _bounded_metrics)
