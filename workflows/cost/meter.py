"""Measures what each Lambda does inside, on the local cloud: its invocations, how long its
handler ran, and the billable service calls it made itself (which no execution history shows).

    with LocalCloud(virtual_time=True) as cloud, Meter(cloud) as meter:
        ...                                   # run executions
    meter.profiles()                          # logical id -> cost.FunctionProfile

Two seams, both public:
- the cloud's `LambdaRuntime.handler_for` is wrapped on this cloud's instance (undone on exit),
  so each handler call is timed and marks its thread as running that function;
- botocore's event hooks (`before-parameter-build`, `after-call`, `after-call-error`) record the
  calls made on such a thread. They are registered with botocore's built-in handlers, which every
  botocore session hands to the clients it makes (moto reaches every client the same way), once,
  when this module is imported: clients made earlier in the process are not metered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore import handlers as botocore_handlers

from workflows.cost.model import FunctionProfile, Units, lambda_billed_ms, units_of_call

_local = threading.local()
_CALL = "fleet_metered_call"  # where a metered call's request waits for its answer (the request context)


def _before_call(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    meter, function = getattr(_local, "meter", None), getattr(_local, "function", None)
    if meter is not None and function is not None:
        context[_CALL] = (meter, function, model.service_model.service_name, model.name, params)


def _after_call(parsed: dict[str, Any], context: dict[str, Any], http_response: Any = None, **_: Any) -> None:
    call = context.pop(_CALL, None)
    if call is not None:
        meter, function, service, operation, params = call
        answered = http_response is not None and http_response.status_code < 300
        meter._record(function, service, operation, params, parsed if answered else None)  # a failed call is billed too


def _after_call_error(context: dict[str, Any], **_: Any) -> None:
    call = context.pop(_CALL, None)
    if call is not None:
        meter, function, service, operation, params = call
        meter._record(function, service, operation, params, None)


_HOOKS = (("before-parameter-build", _before_call), ("after-call", _after_call), ("after-call-error", _after_call_error))


def _register_hooks() -> None:
    for hook in _HOOKS:
        if hook not in botocore_handlers.BUILTIN_HANDLERS:
            botocore_handlers.BUILTIN_HANDLERS.append(hook)


_register_hooks()


class Meter:
    def __init__(self, cloud: Any):
        self.cloud = cloud
        self._lock = threading.Lock()
        self._profiles: dict[str, FunctionProfile] = {}
        self._calls: dict[str, dict[str, int]] = {}
        self._in_flight = 0
        self._original_handler_for: Callable | None = None

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
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._original_handler_for is not None:
            self.cloud.runtime.__dict__.pop("handler_for", None)

    # --- recording ------------------------------------------------------------------------

    def _run(self, function: str, handler: Callable, event: Any, context: Any) -> Any:
        outer = getattr(_local, "function", None), getattr(_local, "meter", None)
        _local.function, _local.meter = function, self
        with self._lock:
            self._in_flight += 1
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            _local.function, _local.meter = outer
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
