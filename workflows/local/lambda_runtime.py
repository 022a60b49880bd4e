"""Run the catalog's Lambda handlers in-process with Lambda's contract (DESIGN.md principle 4).

- the event and the result cross a JSON boundary (bytes in, bytes out), as on AWS;
- the handler gets a real context: request id, function name and ARN, memory, remaining time;
- the catalog timeout is enforced: a handler still running at its deadline is abandoned and the
  invocation answers `Task timed out after N.NN seconds`, as Lambda does;
- an unhandled exception becomes a FunctionError with Lambda's payload {errorType, errorMessage,
  stackTrace}, so `ErrorEquals` in ASL matches the exception class name.

Used by the local cloud (Step Functions tasks, EventBridge targets) and by the Lambda Invoke API
server, so every caller sees the same behaviour.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from workflows.definitions import catalog
from workflows.definitions.catalog import Function
from workflows.local import call_log
from workflows.local.clock import Clock, RealClock
from workflows.local.local_aws import SANDBOX_AWS_ENV
from workflows.local.names import function_arn, resolve

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's limit on a synchronous invocation's request payload
# Asynchronous invocation: a throttled event is retried from 1 s to 5 min apart for up to 6 hours.
THROTTLE_RETRY_BASE_S = 1.0
THROTTLE_RETRY_MAX_S = 300.0
MAX_EVENT_AGE_S = 6 * 3600.0


@dataclass
class Invocation:
    """What Lambda's Invoke API answers: status, FunctionError header and the payload bytes."""

    status_code: int
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the handler raised or timed out
    request_id: str = ""
    # Set when the Invoke call itself failed (Lambda answered 4xx/5xx, no handler result).
    error_code: str | None = None

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class LambdaContext:
    """The context object Lambda passes to a handler."""

    def __init__(self, function: Function, request_id: str, clock: Clock, deadline: float):
        self.function_name = function.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(function)
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.function_name}"
        self.log_stream_name = f"local/{request_id}"
        self.identity = None
        self.client_context = None
        self._clock = clock
        self._deadline = deadline
        self.started = threading.Event()
        self.started_at = time.monotonic()

    def begin(self, timeout_s: float) -> None:
        """The handler starts now: its deadline counts from here."""
        self._deadline = self._clock.now() + timeout_s
        self.started_at = time.monotonic()
        self.started.set()

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now()) * 1000))


def error_payload(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        # Lambda's trace starts in the handler's code, not in the runtime that called it.
        "stackTrace": [f for f in traceback.format_tb(exc.__traceback__) if __file__ not in f],
    }


# A fault hook may raise (a named error), sleep on the clock (latency, run past the timeout) or
# return None to let the handler run. Installed by fault injection; None when faults are off.
FaultHook = Callable[[Function, Any, Clock], None]


class LambdaRuntime:
    """Invokes catalog functions in this process. Thread-safe; handlers are imported once."""

    def __init__(self, clock: Clock | None = None, fault_hook: FaultHook | None = None, workers: int = 64):
        self.clock = clock or RealClock()
        self.fault_hook = fault_hook
        self.async_retry_delay_s = 60.0
        self._stopping = threading.Event()
        # In-flight invocations per function: at its reserved concurrency Lambda throttles.
        self._in_flight: dict[str, int] = {}
        self._in_flight_lock = threading.Lock()
        self._capacity_freed = threading.Condition(self._in_flight_lock)
        self._timers: list[threading.Timer] = []  # asynchronous retries waiting out their delay
        self._async_pending = 0  # asynchronous events accepted and not yet ended
        self._handlers: dict[str, Callable] = {}
        self._import_lock = threading.Lock()
        # Handlers run on a pool so a timed-out one can be abandoned; each call waits on its own.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._async_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lambda-async")
        _ensure_code_root_on_path()
        os.environ.update(sandbox_environment())

    def shutdown(self) -> None:
        self._stopping.set()  # an asynchronous retry waiting out its delay gives up now
        with self._capacity_freed:
            self._capacity_freed.notify_all()
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._async_pool.shutdown(wait=False, cancel_futures=True)

    def handler_for(self, function: Function) -> Callable:
        handler = self._handlers.get(function.logical_id)
        if handler is None:
            with self._import_lock:
                module_name, attr = function.handler.rsplit(".", 1)
                handler = getattr(importlib.import_module(module_name), attr)
                self._handlers[function.logical_id] = handler
        return handler

    def invoke(self, function_name: str, payload: bytes | str | None, queued: bool = False) -> Invocation:
        """A RequestResponse invocation. Unknown functions raise KeyError (Lambda's 404). `queued`:
        an asynchronous event, which waits for a free slot at reserved concurrency instead of a 429."""
        function = catalog.function_by_name(function_name)
        request_id = str(uuid.uuid4())
        size = len(payload) if isinstance(payload, bytes) else len((payload or "").encode("utf-8", "surrogatepass"))
        if size > MAX_PAYLOAD_BYTES:
            return _failure(request_id, "RequestTooLargeException",
                            f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation", 413)
        try:
            raw = payload.decode() if isinstance(payload, bytes) else (payload or "{}")
            event = json.loads(raw or "{}")
        except json.JSONDecodeError as exc:
            return _failure(request_id, "InvalidRequestContentException", f"Could not parse request body into json: {exc.msg}", 400)
        except (UnicodeDecodeError, ValueError, RecursionError):
            # Not UTF-8, a number too long to convert, nesting too deep: not JSON a handler can get.
            return _failure(request_id, "InvalidRequestContentException", "Could not parse request body into json", 400)
        if not self._admit(function, queued):
            return _failure(request_id, "TooManyRequestsException", "Rate Exceeded.", 429)
        try:
            return self._invoke_admitted(function, event, request_id)
        finally:
            with self._in_flight_lock:
                self._in_flight[function.logical_id] -= 1
                self._capacity_freed.notify_all()

    def _admit(self, function: Function, queued: bool = False) -> bool:
        with self._in_flight_lock:
            limit = function.reserved_concurrency
            if queued and limit is not None:
                self._capacity_freed.wait_for(
                    lambda: self._stopping.is_set() or self._in_flight.get(function.logical_id, 0) < limit,
                    timeout=THROTTLE_RETRY_MAX_S)
            running = self._in_flight.get(function.logical_id, 0)
            if function.reserved_concurrency is not None and running >= function.reserved_concurrency:
                return False
            self._in_flight[function.logical_id] = running + 1
            return True

    def _invoke_admitted(self, function: Function, event: Any, request_id: str) -> Invocation:
        context = LambdaContext(function, request_id, self.clock, self.clock.now() + function.timeout_s)
        future = self._pool.submit(self._run, function, event, context)
        # The timeout runs from the handler's start, as in a Lambda sandbox: time spent waiting
        # for a free worker here (a busy `fleet up`) is not the function's.
        while not context.started.wait(0.5) and not future.done():
            pass
        # A hung handler is abandoned at its deadline in wall time. One that slept past it on a
        # virtual clock (a slow dependency, an injected timeout) has its skipped seconds counted
        # too. Other threads moving the virtual clock never time this call out.
        try:
            ok, body, skipped = future.result(timeout=function.timeout_s)
        except FutureTimeout:
            ok, body, skipped = False, b"", float(function.timeout_s)
        except CancelledError:  # the runtime shut down before the handler began
            return _failure(request_id, "ServiceException", "the local Lambda runtime stopped", 500)
        if time.monotonic() - context.started_at + skipped > function.timeout_s:
            return Invocation(
                200,
                _json({"errorType": "Sandbox.Timedout", "errorMessage": f"{_task_timed_out(function)}"}),
                function_error="Unhandled",
                request_id=request_id,
            )
        if body is _THROTTLED:
            return _failure(request_id, "TooManyRequestsException", "Rate Exceeded.", 429)
        if ok:
            return Invocation(200, body, request_id=request_id)
        return Invocation(200, body, function_error="Unhandled", request_id=request_id)

    def invoke_async(self, function_name: str, payload: bytes | str, on_failure: Callable[[dict], None] | None = None,
                     maximum_retry_attempts: int = 2) -> str:
        """An Event invocation: queued, run after the caller returns, retried twice on error
        (Lambda's default), then handed to the on-failure destination.

        As on AWS, a throttle is not an attempt: the event goes back to the queue and is tried
        again with a backoff growing from 1 s to 5 min for up to six hours. The queue also holds an
        event while its function is at its reserved concurrency, as Lambda's poller does, so
        a burst of events is delivered at the function's pace instead of throttled into a backoff.
        """
        function = catalog.function_by_name(function_name)
        request_id = str(uuid.uuid4())

        expires = self.clock.now() + MAX_EVENT_AGE_S
        tally = {"attempts": 0, "throttles": 0}

        def attempt() -> None:
            rescheduled = False
            try:
                rescheduled = deliver()
            finally:
                if not rescheduled:
                    self._async_ended()

        def deliver() -> bool:
            """One delivery; True when a retry is scheduled. A retry is a timer, not a sleeping
            queue worker, so a failing event waiting out its minute never holds up the others."""
            if self._stopping.is_set():
                return False  # the local cloud stopped: nothing left to deliver to
            result = self.invoke(function.function_name, payload, queued=True)
            if result.error_code == "TooManyRequestsException" and self.clock.now() < expires:
                tally["throttles"] += 1
                self._later(min(THROTTLE_RETRY_BASE_S * 2 ** (tally["throttles"] - 1), THROTTLE_RETRY_MAX_S), attempt)
                return True
            if result.error_code != "TooManyRequestsException":
                tally["attempts"] += 1
                if not result.function_error and not result.error_code:
                    return False
                if tally["attempts"] <= maximum_retry_attempts:
                    # Lambda waits about 1 minute, then 2 (scaled down where a test asks).
                    self._later(self.async_retry_delay_s * tally["attempts"], attempt)
                    return True
            if on_failure is not None:
                exhausted = tally["attempts"] > maximum_retry_attempts
                on_failure({
                    "requestContext": {"requestId": request_id, "functionArn": function_arn(function),
                                       "condition": "RetriesExhausted" if exhausted else "EventAgeExceeded",
                                       "approximateInvokeCount": tally["attempts"] + tally["throttles"]},
                    "requestPayload": json.loads(payload),
                    "responseContext": {"statusCode": result.status_code, "functionError": result.function_error or result.error_code},
                    "responsePayload": result.json(),
                })
            return False

        with self._capacity_freed:
            self._async_pending += 1
        self._async_pool.submit(attempt)
        return request_id

    def _async_ended(self) -> None:
        with self._capacity_freed:
            self._async_pending -= 1
            self._capacity_freed.notify_all()

    def wait_for_async(self, timeout_s: float) -> bool:
        """Wait until every asynchronous event accepted so far has been delivered, handed to its
        on-failure destination or dropped (False when the timeout passes first). A retry waiting
        out its delay counts as not delivered."""
        with self._capacity_freed:
            return self._capacity_freed.wait_for(lambda: self._async_pending == 0 or self._stopping.is_set(),
                                                 timeout=timeout_s)

    def _later(self, seconds: float, attempt: Callable[[], None]) -> None:
        """Queue an asynchronous attempt after a delay on the clock (a virtual one jumps)."""
        if self.clock.virtual:
            self.clock.sleep(seconds)
            self._submit_async(attempt)
            return
        timer = threading.Timer(seconds, self._submit_async, (attempt,))
        timer.daemon = True
        with self._in_flight_lock:
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _submit_async(self, attempt: Callable[[], None]) -> None:
        try:
            self._async_pool.submit(attempt)
        except RuntimeError:
            pass  # shut down while the retry waited: nothing left to deliver to

    def _run(self, function: Function, event: Any, context: LambdaContext) -> tuple[bool, bytes, float]:
        context.begin(function.timeout_s)
        skipped_before = self.clock.skipped_by_this_thread()
        ok, body = self._call(function, event, context)
        return ok, body, self.clock.skipped_by_this_thread() - skipped_before

    def _call(self, function: Function, event: Any, context: LambdaContext) -> tuple[bool, bytes]:
        try:
            if self.fault_hook is not None:
                self.fault_hook(function, event, self.clock)
        except LambdaThrottled:
            return False, _THROTTLED
        except Exception as exc:  # noqa: BLE001 - an injected error is reported like the handler's own
            return False, _json(error_payload(exc))
        try:
            handler = self.handler_for(function)
            with call_log.running(function.logical_id):  # its AWS calls are its role's (call_log.py)
                result = handler(event, context)
            return True, _json(result)
        except Exception as exc:  # noqa: BLE001 - every handler failure becomes Lambda's error payload
            return False, _json(error_payload(exc))


_THROTTLED = b"throttled"


class LambdaThrottled(Exception):
    """Raised by a fault hook before the handler runs: the Invoke call itself answers 429."""


def _failure(request_id: str, error_type: str, message: str, status: int) -> Invocation:
    return Invocation(status, _json({"Type": "User", "message": message}), request_id=request_id, error_code=error_type)


def _task_timed_out(function: Function) -> str:
    return f"Task timed out after {function.timeout_s:.2f} seconds"


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


# What a local process needs so boto3 and Powertools behave as in a quiet Lambda sandbox.
_SANDBOX_ENV = {
    **SANDBOX_AWS_ENV,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


def sandbox_environment() -> dict[str, str]:
    """The functions' environment from the catalog, with local names for the resources. In one
    process all functions share os.environ, so the catalog's values must agree across functions;
    they do, as they name the same resources."""
    env = dict(_SANDBOX_ENV)
    # Handler logs go to this process's stdout; quiet unless asked (FLEET_LOG_LEVEL=INFO).
    env["POWERTOOLS_LOG_LEVEL"] = os.environ.get("FLEET_LOG_LEVEL", "WARNING")
    for f in catalog.FUNCTIONS:
        for key, value in f.environment.items():
            env[key] = resolve(value) if isinstance(value, catalog.Ref) else value
    return env


def _ensure_code_root_on_path() -> None:
    root = str(catalog.LAMBDAS_DIR)
    if root not in sys.path:
        sys.path.insert(0, root)

