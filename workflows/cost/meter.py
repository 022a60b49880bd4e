"""Measures what each Lambda does inside, on the local cloud: its invocations, how long its
handler ran, and the billable service calls it made itself (which no execution history shows).

    with LocalCloud(virtual_time=True) as cloud, Meter(cloud) as meter:
        ...                                   # run executions
    meter.profiles()                          # logical id -> cost.FunctionProfile

Two seams, both undone on exit:
- the cloud's `LambdaRuntime.handler_for` (public) is wrapped on this cloud's instance, so each
  handler call is timed and marks its thread as running that function;
- botocore's `BaseClient._make_api_call` (the one method every SDK call goes through, in every
  client, however it was made) records the calls made on such a thread. This reaches into
  botocore; tests/cost/test_meter.py fails loudly if an upgrade moves it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import botocore.client

from workflows.cost.model import FunctionProfile, Units, lambda_billed_ms, units_of_call

_local = threading.local()


class Meter:
    def __init__(self, cloud: Any):
        self.cloud = cloud
        self._lock = threading.Lock()
        self._profiles: dict[str, FunctionProfile] = {}
        self._calls: dict[str, dict[str, int]] = {}
        self._in_flight = 0
        self._original_handler_for: Callable | None = None
        self._original_api_call: Callable | None = None

    def __enter__(self) -> Meter:
        runtime = self.cloud.runtime
        original_handler_for = runtime.handler_for
        self._original_handler_for = original_handler_for
        meter = self

        def handler_for(function: Any) -> Callable:
            handler = original_handler_for(function)

            def timed(event: Any, context: Any) -> Any:
                return meter._run(function.logical_id, handler, event, context)

            return timed

        runtime.handler_for = handler_for  # on this instance only
        original_api_call = botocore.client.BaseClient._make_api_call
        self._original_api_call = original_api_call

        def make_api_call(client: Any, operation_name: str, api_params: dict) -> Any:
            function = getattr(_local, "function", None)
            if function is None:
                return original_api_call(client, operation_name, api_params)
            service = client.meta.service_model.service_name
            response: Any = None
            try:
                response = original_api_call(client, operation_name, api_params)
                return response
            finally:  # a failed call (a condition not met) is billed too
                meter._record(function, service, operation_name, api_params, response)

        botocore.client.BaseClient._make_api_call = make_api_call
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._original_api_call is not None:
            botocore.client.BaseClient._make_api_call = self._original_api_call
        if self._original_handler_for is not None:
            self.cloud.runtime.__dict__.pop("handler_for", None)

    # --- recording ------------------------------------------------------------------------

    def _run(self, function: str, handler: Callable, event: Any, context: Any) -> Any:
        outer = getattr(_local, "function", None)
        _local.function = function
        with self._lock:
            self._in_flight += 1
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            _local.function = outer
            with self._lock:
                self._in_flight -= 1
                p = self._profiles.setdefault(function, FunctionProfile(function))
                p.invocations += 1
                p.billed_ms_total += lambda_billed_ms(elapsed_ms)

    def _record(self, function: str, service: str, operation: str, params: dict, response: Any) -> None:
        units = units_of_call(service, operation, params, response if isinstance(response, dict) else None)
        with self._lock:
            p = self._profiles.setdefault(function, FunctionProfile(function))
            p.units_total = p.units_total + units
            calls = self._calls.setdefault(function, {})
            key = f"{service}:{operation}"
            calls[key] = calls.get(key, 0) + 1

    # --- results --------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

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
            return {k: FunctionProfile(v.function, v.invocations, v.billed_ms_total, Units() + v.units_total)
                    for k, v in self._profiles.items()}

    def calls(self) -> dict[str, dict[str, int]]:
        """function -> "service:Operation" -> count (what each function called)."""
        with self._lock:
            return {k: dict(v) for k, v in self._calls.items()}
