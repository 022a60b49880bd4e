"""Run the catalog's Lambda handlers with Lambda's contract and execution model (DESIGN.md 4, 9).

- each invocation runs in an execution environment: a worker process of its own function
  (workflows/local/environments.py), with the function's environment variables, an init phase
  (Init Duration on a cold start), its memory setting enforced (Runtime.OutOfMemory), one
  invocation at a time, reused while warm; the function's SDK calls reach the local AWS endpoint
  through AWS_ENDPOINT_URL, as a real function's reach AWS;
- the event and the result cross a JSON boundary (bytes in, bytes out), as on AWS;
- the catalog timeout ends the environment: a handler still running at its deadline is killed
  (nothing it would have done afterwards happens) and the invocation answers
  `Task timed out after N.NN seconds`, as Lambda does;
- an unhandled exception becomes a FunctionError with Lambda's payload {errorType, errorMessage,
  stackTrace}, so `ErrorEquals` in ASL matches the exception class name;
- concurrency is the number of environments: at its reserved concurrency a function throttles a
  synchronous call (429 TooManyRequestsException) and holds an asynchronous event in its queue.

Functions are resolved here (catalog.function_by_name, in this process); an environment receives
the resolved handler and settings. Used by the local cloud (Step Functions tasks, EventBridge
targets) and by the Lambda Invoke API server, so every caller sees the same behaviour.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from workflows.definitions import catalog
from workflows.definitions.catalog import Function
from workflows.local import call_log, sandbox
from workflows.local.clock import Clock, RealClock
from workflows.local.environments import (
    EnvironmentFailed,
    EnvironmentPool,
    EnvironmentTimedOut,
    zygote,
)
from workflows.local.function_registry import (
    LOCAL_INTERPRETER,
    CodeFunction,
    FunctionRegistry,
    code_dir_of,
    runtime_of,
)
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
    record: InvocationRecord | None = None  # what the runtime saw of it (its log lines, REPORT)

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class LambdaContext:
    """The context object Lambda passes to a handler, for calling a handler in this process (a
    test, the benchmark's direct reference): its deadline read on `clock`. Environments build their
    own (sandbox.Context)."""

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

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now()) * 1000))


def _is_catalogs(function: Function) -> bool:
    return not isinstance(function, CodeFunction) and any(f.logical_id == function.logical_id for f in catalog.FUNCTIONS)


def error_payload(exc: BaseException, request_id: str | None = None) -> dict[str, Any]:
    return sandbox.error_payload(exc, request_id=request_id, runtime_files=(__file__,))


# A fault hook may raise (a named error), sleep on the clock (latency, run past the timeout) or
# return None to let the handler run. Installed by fault injection; None when faults are off.
FaultHook = Callable[[Function, Any, Clock], None]


@dataclass
class InvocationRecord:
    """What the runtime saw of one invocation (the REPORT line's figures, its logs, its SDK calls):
    handed to the runtime's observers (logs, metrics, the cost meter)."""

    function: Function
    request_id: str
    outcome: str  # "ok", "error", "timeout", "oom", "throttled", "init_error"
    duration_ms: float = 0.0
    init_ms: float | None = None  # set on a cold start only
    max_memory_mb: int = 0
    logs: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, float]]] = field(default_factory=list)
    ended_at: float = 0.0  # on the runtime's clock
    log_stream: str = ""  # the environment's stream in the function's log group
    init_lines: list[str] = field(default_factory=list)  # INIT_START and what the init phase wrote
    request: bytes = b""  # the event, as it crossed the JSON boundary

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms))

    def report_line(self) -> str:
        """Lambda's REPORT line; Init Duration only on a cold start."""
        line = (f"REPORT RequestId: {self.request_id}\tDuration: {self.duration_ms:.2f} ms\t"
                f"Billed Duration: {self.billed_ms} ms\tMemory Size: {self.function.memory_mb} MB\t"
                f"Max Memory Used: {self.max_memory_mb} MB\t")
        if self.init_ms is not None:
            line += f"Init Duration: {self.init_ms:.2f} ms\t"
        return line

    def log_lines(self) -> list[str]:
        """The invocation's log as Lambda writes it: START, the function's lines, END, REPORT."""
        return [*self.init_lines, f"START RequestId: {self.request_id} Version: $LATEST", *self.logs,
                f"END RequestId: {self.request_id}", self.report_line()]


Observer = Callable[[InvocationRecord], None]


class LambdaRuntime:
    """Invokes catalog functions in execution environments. Thread-safe: each call waits on its
    own environment; `workers` bounds the environments (processes) alive at once."""

    def __init__(self, clock: Clock | None = None, fault_hook: FaultHook | None = None, workers: int = 64,
                 endpoint_url: str | None = None, async_workers: int = 8):
        self.clock = clock or RealClock()
        self.fault_hook = fault_hook
        # Where the functions' SDK calls go (their AWS_ENDPOINT_URL): the local cloud's endpoint.
        self.endpoint_url = endpoint_url
        self.async_retry_delay_s = 60.0
        self.observers: list[Observer] = [echo_function_logs]
        self._stopping = threading.Event()
        # In-flight invocations per function: at its reserved concurrency Lambda throttles.
        self._in_flight: dict[str, int] = {}
        self._in_flight_lock = threading.Lock()
        self._capacity_freed = threading.Condition(self._in_flight_lock)
        self._timers: list[threading.Timer] = []  # asynchronous retries waiting out their delay
        self._async_pending = 0  # asynchronous events accepted and not yet ended
        self.functions = FunctionRegistry()  # created through the Lambda API
        self._reserved: dict[str, int] = {}  # reserved concurrency set on this runtime, by logical id
        self.environments = EnvironmentPool(self._environment_spec, max_environments=workers)
        self._async_pool = ThreadPoolExecutor(max_workers=async_workers, thread_name_prefix="lambda-async")
        _ensure_code_root_on_path()
        zygote()  # started now, in the background: the first cold start finds it ready
        # This process's own tools (the CLI, the demo) read the same names the functions get.
        os.environ.update(sandbox_environment())

    def shutdown(self) -> None:
        self._stopping.set()  # an asynchronous retry waiting out its delay gives up now
        with self._capacity_freed:
            self._capacity_freed.notify_all()
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        self._async_pool.shutdown(wait=False, cancel_futures=True)
        self.environments.close()
        self.functions.close()

    def resolve(self, function_name: str) -> Function:
        """A function by name, ARN or qualified ARN: one created through the Lambda API, else the
        catalog's (catalog.function_by_name), with the reserved concurrency set on this runtime
        (PutFunctionConcurrency). KeyError when there is none."""
        function = self.functions.get(function_name) or catalog.function_by_name(function_name)
        reserved = self._reserved.get(function.logical_id)
        if reserved is not None:
            function = dataclasses.replace(function, reserved_concurrency=reserved)
        return function

    def set_concurrency(self, function_name: str, reserved: int | None = None, provisioned: int = 0) -> None:
        """A function's reserved concurrency (None: unreserved) and provisioned concurrency: that
        many environments initialised now and kept, so their invocations start warm. Provisioning
        waits for their init phases."""
        function = self.resolve(function_name)
        if reserved is not None and provisioned > reserved:
            raise ValueError(f"provisioned concurrency {provisioned} is above the reserved {reserved}")
        with self._capacity_freed:
            if reserved is None:
                self._reserved.pop(function.logical_id, None)
            else:
                self._reserved[function.logical_id] = reserved
        self.environments.provision(self.resolve(function_name), provisioned)

    def _environment_spec(self, function: Function) -> dict[str, Any]:
        code = code_dir_of(function)
        return {
            "env": function_environment(function, self.endpoint_url),
            "path": [code, *[p for p in sys.path if p and p != code]],
            "task_root": code,
            "handler": function.handler,
            "logical_id": function.logical_id,
            "memory_mb": function.memory_mb,
        }

    def invoke(self, function_name: str, payload: bytes | str | None, queued: bool = False) -> Invocation:
        """A RequestResponse invocation. Unknown functions raise KeyError (Lambda's 404). `queued`:
        an asynchronous event, which waits for a free slot at reserved concurrency instead of a 429."""
        function = self.resolve(function_name)
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
        body = payload if isinstance(payload, bytes) else (payload or "{}").encode("utf-8", "surrogatepass")
        try:
            return self._invoke_admitted(function, event, body or b"{}", request_id)
        finally:
            with self._in_flight_lock:
                self._in_flight[function.logical_id] -= 1
                self._capacity_freed.notify_all()

    def _admit(self, function: Function, queued: bool = False) -> bool:
        with self._in_flight_lock:
            limit = function.reserved_concurrency
            if queued and limit is not None:
                with self.clock.waiting():
                    self._capacity_freed.wait_for(
                        lambda: self._stopping.is_set() or self._in_flight.get(function.logical_id, 0) < limit,
                        timeout=THROTTLE_RETRY_MAX_S)
            running = self._in_flight.get(function.logical_id, 0)
            if function.reserved_concurrency is not None and running >= function.reserved_concurrency:
                return False
            self._in_flight[function.logical_id] = running + 1
            return True

    def _invoke_admitted(self, function: Function, event: Any, body: bytes, request_id: str) -> Invocation:
        record = InvocationRecord(function, request_id, "ok", request=body)
        try:
            env = self.environments.acquire(function)
        except EnvironmentFailed as exc:  # the init phase failed: Lambda answers with its error
            record.outcome = "init_error"
            record.logs = [json.dumps(exc.payload)]
            if not self._stopping.is_set():  # (stopping: an event still queued finds no runtime; not a function's log)
                self._observe(record)
            return Invocation(200, _json(exc.payload), function_error="Unhandled", request_id=request_id, record=record)
        record.init_ms, env.init_ms = env.init_ms, None
        record.log_stream = env.log_stream
        if record.init_ms is not None:
            record.init_lines = [f"INIT_START Runtime Version: {runtime_of(function)} "
                                 f"(runs on this machine's {LOCAL_INTERPRETER}, {sys.version.split()[0]})",
                                 *env.init_logs]
            env.init_logs = []
        began = time.monotonic()
        # The fault hook stands for the handler's own time: an injected error is the handler's,
        # a sleep (latency, a timeout) counts against the function's timeout.
        skipped_before = self.clock.skipped_by_this_thread()
        try:
            if self.fault_hook is not None:
                self.fault_hook(function, event, self.clock)
        except LambdaThrottled:
            self.environments.release(env)
            record.outcome = "throttled"
            self._observe(record)
            return _failure(request_id, "TooManyRequestsException", "Rate Exceeded.", 429)
        except Exception as exc:  # noqa: BLE001 - an injected error is reported like the handler's own
            self.environments.release(env)
            record.outcome, record.duration_ms = "error", (time.monotonic() - began) * 1000
            self._observe(record)
            return Invocation(200, sandbox.error_json(error_payload(exc, request_id)), function_error="Unhandled",
                              request_id=request_id, record=record)
        used = time.monotonic() - began + (self.clock.skipped_by_this_thread() - skipped_before)
        remaining = function.timeout_s - used
        if remaining <= 0:
            return self._timed_out(env, record)
        record.log_stream = env.log_stream
        header = {"request_id": request_id, "function_name": function.function_name,
                  "function_arn": function_arn(function), "memory_mb": function.memory_mb,
                  "log_group": f"/aws/lambda/{function.function_name}", "log_stream": env.log_stream,
                  "deadline": time.time() + remaining}
        try:
            result = env.invoke(header, body, remaining)
        except EnvironmentTimedOut:
            record.duration_ms = used * 1000
            return self._timed_out(env, record)
        except EnvironmentFailed as exc:
            self.environments.release(env)  # ended: not kept
            record.outcome, record.duration_ms = "error", (time.monotonic() - began) * 1000
            self._observe(record)
            return Invocation(200, _json(exc.payload), function_error="Unhandled", request_id=request_id, record=record)
        self.environments.release(env)
        record.outcome = result.status
        record.duration_ms = used * 1000 + result.duration_ms
        record.max_memory_mb = result.max_memory_mb
        record.logs.extend(result.logs)
        record.calls = [(c[0], c[1], c[2]) for c in result.calls]
        if _is_catalogs(function):  # the roles checked are the catalog's functions'
            call_log.record([call_log.Call(**iam) for c in result.calls if len(c) > 3 for iam in c[3]])
        self._observe(record)
        if result.status == "ok":
            return Invocation(200, result.payload, request_id=request_id, record=record)
        return Invocation(200, result.payload, function_error="Unhandled", request_id=request_id, record=record)

    def _timed_out(self, env: Any, record: InvocationRecord) -> Invocation:
        """The deadline passed: the environment ends (SIGKILL), the call answers Sandbox.Timedout."""
        self.environments.discard(env)
        record.outcome = "timeout"
        record.duration_ms = float(record.function.timeout_s * 1000)
        message = _task_timed_out(record.function)
        record.logs.append(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {record.request_id} {message}")
        self._observe(record)
        return Invocation(200, _json({"errorType": "Sandbox.Timedout", "errorMessage": message}),
                          function_error="Unhandled", request_id=record.request_id, record=record)

    def _observe(self, record: InvocationRecord) -> None:
        record.ended_at = self.clock.now()
        for observer in list(self.observers):
            try:
                observer(record)
            except Exception:  # noqa: BLE001 - an observer never fails an invocation
                pass

    def invoke_async(self, function_name: str, payload: bytes | str, on_failure: Callable[[dict[str, Any]], None] | None = None,
                     maximum_retry_attempts: int = 2) -> str:
        """An Event invocation: queued, run after the caller returns, retried twice on error
        (Lambda's default), then handed to the on-failure destination.

        As on AWS, a throttle is not an attempt: the event goes back to the queue and is tried
        again with a backoff growing from 1 s to 5 min for up to six hours. The queue also holds an
        event while its function is at its reserved concurrency, as Lambda's poller does, so
        a burst of events is delivered at the function's pace instead of throttled into a backoff.
        """
        function = self.resolve(function_name)
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
        self._async_pool.submit(self.clock.track(attempt))
        return request_id

    def in_flight(self, logical_id: str) -> int:
        """The function's invocations running now (its concurrent executions)."""
        with self._capacity_freed:
            return self._in_flight.get(logical_id, 0)

    def busy(self) -> int:
        """Invocations running now plus asynchronous events not yet delivered."""
        with self._capacity_freed:
            return sum(self._in_flight.values()) + self._async_pending

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
            self._async_pool.submit(self.clock.track(attempt))
        except RuntimeError:
            pass  # shut down while the retry waited: nothing left to deliver to

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
    """The catalog's variables for every function, with local names (this process's own tools
    read them; each environment gets only its own function's: function_environment)."""
    env = dict(_SANDBOX_ENV)
    env["POWERTOOLS_LOG_LEVEL"] = os.environ.get("FLEET_LOG_LEVEL", "WARNING")
    for f in catalog.FUNCTIONS:
        env.update(_own_variables(f))
    return env


def _own_variables(function: Function) -> dict[str, str]:
    return {k: resolve(v) if isinstance(v, catalog.Ref) else v for k, v in function.environment.items()}


def echo_function_logs(record: InvocationRecord) -> None:
    """The function's own log lines on this process's stderr (as they were when handlers ran here)."""
    if record.logs:
        sys.stderr.write("".join(line if line.endswith("\n") else line + "\n" for line in record.logs))


def function_environment(function: Function, endpoint_url: str | None) -> dict[str, str]:
    """An environment's variables, as Lambda sets them: the function's own (from the catalog, with
    local names), its name, memory, handler, log group, the region and credentials, and the AWS
    endpoint its SDK calls go to. Nothing else of this process's environment."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": code_dir_of(function),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime_of(function)}",
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.function_name}",
        **_SANDBOX_ENV,
        "POWERTOOLS_LOG_LEVEL": os.environ.get("FLEET_LOG_LEVEL", "WARNING"),
        **_own_variables(function),
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def _ensure_code_root_on_path() -> None:
    root = str(catalog.LAMBDAS_DIR)
    if root not in sys.path:
        sys.path.insert(0, root)

