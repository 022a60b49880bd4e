"""The one module that reaches into moto's internals (DESIGN.md principle 5).

Pinned to moto 5.2.5 (see requirements). moto's Step Functions engine (ported from LocalStack)
is used as it is, with five seams re-pointed at the local cloud:

1. `boto_client_for` (every service integration asks it for a client): Lambda calls go to the
   in-process LambdaRuntime; other services get one cached boto3 client per service and region
   instead of a new client per task (the largest per-execution cost measured with stock moto).
2. Retry backoff (`retrier_decl.time.sleep`) sleeps on the local clock.
3. Wait states sleep on the local clock.
4. Timed waits inside the engine (task TimeoutSeconds, `.waitForTaskToken` timeouts and
   heartbeats) are `threading.Event`s created in `execute_state` and `callback`; they are
   swapped for ClockEvents so those timeouts run on the local clock too.
5. History event timestamps come from the local clock, so traces show virtual durations.
6. Execution start and stop dates (DescribeExecution) come from the local clock too, so an
   execution's duration agrees with its history.
7. The context object's `$$.Execution.StartTime` is a datetime in moto but ISO 8601 text on
   AWS; it is made text, so an ASL file that copies it into a DynamoDB item works on both.

And EventBridge: moto raises NotImplementedError for a Lambda rule target, so matching events
for Lambda targets are handed to the runtime's asynchronous invoke (AWS's async contract).

`tests/workflows/test_moto_adapter.py` fails loudly if an upgrade moves any of these.
"""

from __future__ import annotations

import copy
import logging
import importlib
import pkgutil
import threading
import datetime as dt_module
import types
from datetime import datetime, timezone
from typing import Any, Callable

import boto3
from botocore.config import Config

import moto
from moto.events import models as events_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval.callback import callback
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.clock import Clock, ClockEvent
from workflows.local.lambda_runtime import LambdaRuntime

MOTO_VERSION = "5.2.5"
ENGINE_PACKAGE = "moto.stepfunctions.parser.asl"


class InProcessLambdaClient:
    """Quacks like boto3's Lambda client for the one call the engine makes: invoke()."""

    def __init__(self, runtime: LambdaRuntime):
        self._runtime = runtime

    def invoke(self, FunctionName: str, Payload: Any = None, **_ignored: Any) -> dict[str, Any]:
        import io

        if isinstance(Payload, (dict, list)):
            import json

            Payload = json.dumps(Payload)
        try:
            result = self._runtime.invoke(FunctionName, Payload)
        except KeyError as exc:
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": str(exc).strip("'")},
                 "ResponseMetadata": {"HTTPStatusCode": 404, "RequestId": "local"}},
                "Invoke",
            ) from None
        if result.error_code:
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": result.error_code, "Message": result.json().get("message", "")},
                 "ResponseMetadata": {"HTTPStatusCode": result.status_code, "RequestId": result.request_id}},
                "Invoke",
            )
        response: dict[str, Any] = {
            "StatusCode": result.status_code,
            "ExecutedVersion": "$LATEST",
            "Payload": io.BytesIO(result.payload),
            "ResponseMetadata": {"HTTPStatusCode": result.status_code, "RequestId": result.request_id},
        }
        if result.function_error:
            response["FunctionError"] = result.function_error
        return response


class _Bindings:
    """What the patched seams call into; swapped per local cloud (moto's state is global too)."""

    runtime: LambdaRuntime | None = None
    clock: Clock | None = None
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    if service == "lambda":
        assert _Bindings.runtime is not None, "local cloud not started"
        return InProcessLambdaClient(_Bindings.runtime)
    key = (service, region)
    client = _Bindings.clients.get(key)
    if client is None:
        with _Bindings.lock:
            client = _Bindings.clients.get(key)
            if client is None:
                # Same settings as moto's own factory: no client-side retries, so the state
                # machine's Retry is the only retry policy, as on AWS.
                client = boto3.client(
                    service, region_name=region, aws_access_key_id="ak", aws_secret_access_key="sk",
                    config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1}),
                )
                _Bindings.clients[key] = client
    return client


def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    clock = _Bindings.clock
    assert clock is not None
    if clock.virtual:
        clock.sleep(wait_seconds)
        return
    deadline = clock.now() + wait_seconds
    while env.is_running() and clock.now() < deadline:
        clock.wait(env.program_state_event, deadline - clock.now())


def _timestamp() -> Any:
    assert _Bindings.clock is not None
    return _Bindings.clock.utcnow()


class _ClockDatetime(datetime):
    """datetime whose now() reads the local clock (for moto modules that call datetime.now)."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        assert _Bindings.clock is not None
        moment = _Bindings.clock.utcnow()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


_CLOCK_DATETIME_MODULE = types.SimpleNamespace(**{**vars(dt_module), "datetime": _ClockDatetime})

_ORIGINAL_ENVIRONMENT = execution_worker.ExecutionWorker._get_evaluation_environment


def _environment_with_text_start_time(self: Any) -> Any:
    env = _ORIGINAL_ENVIRONMENT(self)
    execution = env.states.context_object.context_object_data["Execution"]
    start = execution.get("StartTime")
    if isinstance(start, datetime):
        execution["StartTime"] = start.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return env


_ORIGINAL_SEND_TO_TARGETS = events_models.Rule.send_to_targets


def _send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    lambda_targets = [t for t in self.targets if ":lambda:" in t.get("Arn", "")]
    if lambda_targets and self.event_pattern.matches_event(original_event):
        import json

        runtime = _Bindings.runtime
        assert runtime is not None
        for target in lambda_targets:
            runtime.invoke_async(target["Arn"], json.dumps(original_event, default=str),
                                 on_failure=_Bindings.on_async_failure)
    others = [t for t in self.targets if t not in lambda_targets]
    if others:
        rule = copy.copy(self)
        rule.targets = others
        _ORIGINAL_SEND_TO_TARGETS(rule, original_event, transform_input)


_Bindings.on_async_failure = None  # type: ignore[attr-defined]

_installed = False


def engine_modules() -> list[types.ModuleType]:
    """Every module of moto's ASL engine (imported), so the client seam can be found in each."""
    package = importlib.import_module(ENGINE_PACKAGE)
    modules = []
    for info in pkgutil.walk_packages(package.__path__, ENGINE_PACKAGE + ".", onerror=lambda _name: None):
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:
            continue  # a few LocalStack leftovers in moto import modules moto does not ship
    return modules


def install(runtime: LambdaRuntime, clock: Clock, on_async_failure: Callable[[dict], None] | None = None) -> None:
    """Point moto's engine at this runtime and clock. Idempotent; later calls rebind."""
    global _installed
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"workflows.local.moto_adapter is written against moto {MOTO_VERSION}, found {moto.__version__}: "
            "re-check the seams listed in its docstring and update MOTO_VERSION"
        )
    _Bindings.runtime = runtime
    _Bindings.clock = clock
    _Bindings.on_async_failure = on_async_failure  # type: ignore[attr-defined]
    _Bindings.clients = {}
    ClockEvent.clock = clock
    # The engine logs every caught task failure at ERROR; here those are expected paths.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    if _installed:
        return
    for module in engine_modules():
        if getattr(module, "boto_client_for", None) is not None:
            module.boto_client_for = _client_for
    retrier_decl.time = types.SimpleNamespace(sleep=lambda s: _Bindings.clock.sleep(s))  # type: ignore[union-attr]
    wait_function.WaitFunction._wait_interval = _wait_interval
    execute_state.threading = types.SimpleNamespace(Event=ClockEvent)
    callback.Event = ClockEvent
    event_manager.EventManager._get_current_timestamp = staticmethod(_timestamp)
    events_models.Rule.send_to_targets = _send_to_targets
    execution_worker.ExecutionWorker._get_evaluation_environment = _environment_with_text_start_time
    parser_models.datetime = _CLOCK_DATETIME_MODULE
    backend_execution.datetime = _CLOCK_DATETIME_MODULE
    _installed = True


def seams() -> dict[str, bool]:
    """Which seams are in place; the adapter test asserts every one is True after install()."""
    return {
        "boto_client_for": all(
            getattr(m, "boto_client_for") is _client_for for m in engine_modules() if hasattr(m, "boto_client_for")
        ),
        "retry_sleep": isinstance(retrier_decl.time, types.SimpleNamespace),
        "wait_state": wait_function.WaitFunction._wait_interval is _wait_interval,
        "task_timeouts": execute_state.threading.Event is ClockEvent and callback.Event is ClockEvent,
        "history_timestamps": event_manager.EventManager.__dict__["_get_current_timestamp"].__func__ is _timestamp,
        "eventbridge_lambda_targets": events_models.Rule.send_to_targets is _send_to_targets,
        "execution_dates": parser_models.datetime is _CLOCK_DATETIME_MODULE
        and backend_execution.datetime is _CLOCK_DATETIME_MODULE,
        "context_start_time": execution_worker.ExecutionWorker._get_evaluation_environment
        is _environment_with_text_start_time,
    }
