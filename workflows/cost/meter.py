"""Measures what each Lambda does inside, on the local cloud: its invocations, how long its
handler ran, and the billable service calls it made itself (which no execution history shows).

    with LocalCloud(virtual_time=True) as cloud, Meter(cloud) as meter:
        ...                                   # run executions
    meter.profiles()                          # logical id -> cost.FunctionProfile

The meter observes the cloud's Lambda runtime (`LambdaRuntime.observers`, removed on exit): each
invocation's record carries its billed duration and the AWS calls the function made in its
execution environment, with their billable units (botocore's public events, inside the
environment: workflows/local/sandbox.py), and on a cold start its Init Duration. Init Durations
outlive `reset` (a warm-up is where the cold starts happen; what it measured of them is kept).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from workflows.cost.model import FunctionProfile, Units


class Meter:
    def __init__(self, cloud: Any):
        self.cloud = cloud
        self._lock = threading.Lock()
        self._profiles: dict[str, FunctionProfile] = {}
        self._calls: dict[str, dict[str, int]] = {}
        self._inits: dict[str, list[float]] = {}  # Init Duration of each cold start, kept by reset

    def __enter__(self) -> Meter:
        self.cloud.runtime.observers.append(self._observe)
        return self

    def __exit__(self, *_exc: object) -> None:
        observers = self.cloud.runtime.observers
        if self._observe in observers:
            observers.remove(self._observe)

    # --- recording ------------------------------------------------------------------------

    def _observe(self, record: Any) -> None:
        if record.outcome in ("throttled", "init_error"):
            return  # no handler ran
        function = record.function.logical_id
        with self._lock:
            if record.init_ms is not None:
                self._inits.setdefault(function, []).append(record.init_ms)
            p = self._profiles.setdefault(function, FunctionProfile(function))
            p.invocations += 1
            p.billed_ms_total += record.billed_ms
            for service, operation, units in record.calls:
                calls = self._calls.setdefault(function, {})
                p.units_total = p.units_total + Units(**units)
                key = f"{service}:{operation}"
                calls[key] = calls.get(key, 0) + 1

    # --- results --------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return int(self.cloud.runtime.busy())

    def invocations(self) -> int:
        with self._lock:
            return sum(p.invocations for p in self._profiles.values())

    def settle(self, quiet_s: float = 0.2, timeout_s: float = 10.0) -> None:
        """Wait until no handler runs and none has started for `quiet_s` (the event consumers
        run asynchronously after the executions end)."""
        deadline = time.monotonic() + timeout_s
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = self.invocations()
            if count != seen or self.in_flight:
                seen, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.02)

    def reset(self) -> None:
        """Forget what was measured so far (after a warm-up)."""
        with self._lock:
            self._profiles.clear()
            self._calls.clear()

    def profiles(self) -> dict[str, FunctionProfile]:
        with self._lock:
            return {k: FunctionProfile(v.function, v.invocations, v.billed_ms_total, Units() + v.units_total,
                                       sum(self._inits.get(k, ())), len(self._inits.get(k, ())))
                    for k, v in self._profiles.items()}

    def calls(self) -> dict[str, dict[str, int]]:
        """function -> "service:Operation" -> count (what each function called)."""
        with self._lock:
            return {k: dict(v) for k, v in self._calls.items()}
