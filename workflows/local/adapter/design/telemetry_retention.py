"""CloudWatch Logs and metrics kept bounded, as a long-running local cloud needs: AWS keeps a log
group's events for its retention period and a metric's data for 15 months in storage outside any
process, while moto keeps every event and datum in the Python heap for as long as it runs (every
invocation's START, END, REPORT and log lines: about 4 KB per registration, growing without end).

Each log group keeps its newest LOG_EVENTS_PER_GROUP events (the last two hundred or so
invocations of a function: what `aws logs tail` and the console show); what is older is dropped,
oldest first.
Each metric (namespace, name and dimensions) keeps its newest DATA_PER_METRIC data as they were
put, and older data rolled up into one statistic set per minute, as CloudWatch itself
aggregates high-resolution data as it ages: sums, counts, minimum and maximum over any period
of whole minutes stay exact (what `fleet cost` and the console read), and a metric costs one
datum a minute once it is old. Trimming runs once a group, or the metric data as a whole, has
grown a quarter past its bound, so a write costs O(1) amortised."""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum
from moto.logs.models import LogGroup

from workflows.local.adapter.seam import Seam

LOG_EVENTS_PER_GROUP = 1_000
DATA_PER_METRIC = 60  # 2 minutes: the telemetry writes a statistic set per function and metric every 2 s

_lock = threading.Lock()
_group_events: dict[int, int] = {}  # id(log group) -> events it holds, as counted here
_trim_at: dict[int, int] = {}  # id(CloudWatch backend) -> data it may hold before the next trim


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
            if len(backend.metric_data) > _trim_at.get(id(backend), DATA_PER_METRIC):
                trim_metrics(backend, DATA_PER_METRIC)
        return answer

    return run


def trim_metrics(backend: Any, keep: int) -> None:
    """Keep each metric's newest `keep` data as they are (the list is in the order they were put);
    roll the older ones up into one statistic set per metric, unit and minute."""
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    kept: list[Any] = []
    older: list[Any] = []
    for datum in reversed(backend.metric_data):
        series = (datum.namespace, datum.name, tuple((d.name, d.value) for d in datum.dimensions))
        counts[series] += 1
        (kept if counts[series] <= keep else older).append(datum)
    kept.reverse()
    backend.metric_data = _per_minute(reversed(older)) + kept
    _trim_at[id(backend)] = len(backend.metric_data) + max(1, len(counts)) * keep // 4


def _per_minute(data: Any) -> list[Any]:
    """Data rolled up into one MetricAggregatedDatum per metric, unit and minute, oldest first."""
    sets: dict[tuple[Any, ...], Any] = {}
    shared: dict[tuple[Any, ...], list[Any]] = {}  # one list of Dimension objects per metric, not one per minute
    for datum in data:
        minute = datum.timestamp.replace(second=0, microsecond=0)
        dimensions = tuple((d.name, d.value) for d in datum.dimensions)
        key = (datum.namespace, datum.name, dimensions, datum.unit, minute)
        low, high, count, total = _statistics(datum)
        held = sets.get(key)
        if held is None:
            sets[key] = MetricAggregatedDatum(datum.namespace, datum.name, low, high, count, total, [], minute, datum.unit)
            sets[key].dimensions = shared.setdefault(dimensions, datum.dimensions)
        else:
            held.min, held.max = min(held.min, low), max(held.max, high)
            held.sample_count += count
            held.sum += total
    return sorted(sets.values(), key=lambda d: d.timestamp)


def _statistics(datum: Any) -> tuple[float, float, float, float]:
    """(minimum, maximum, sample count, sum) of a statistic set or of a single value."""
    if isinstance(datum, MetricAggregatedDatum):
        return datum.min, datum.max, datum.sample_count, datum.sum
    return datum.value, datum.value, 1.0, datum.value


SEAM = Seam(__name__, "CloudWatch Logs events and metric data bounded per log group and per metric")
SEAM.wrap(LogGroup, "put_log_events", _bounded_logs)
SEAM.wrap(CloudWatchBackend, "put_metric_data", _bounded_metrics)
