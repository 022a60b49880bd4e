"""The one module that reaches into moto's internals (DESIGN.md principle 5).

Pinned to moto 5.2.5 (see requirements). moto's Step Functions engine (ported from LocalStack)
is used as it is, with these seams re-pointed at the local cloud:

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
8. Each execution's worker thread is counted while it runs, so a local cloud can wait for its
   executions to end before it resets moto's (process-global) state (a straggler must never
   write into the next cloud), and a caller in this process can wait for one execution's end
   on an event instead of polling DescribeExecution. A stopped execution's token waits are
   woken (moto leaves them waiting out their TimeoutSeconds).
9. moto parses the ASL when a state machine is created and anew for every execution (~110 ms
   for the register workflow); the parsed program is cached per definition and shared. The component tree is read-only after parsing
   (per-execution state lives in each execution's Environment) except for each component's
   lazily drawn heap key, which is drawn once, up front, so concurrent executions never race
   on it. A definition is parsed once even when a burst of executions starts together.
10. A task token answered before the engine has set up its heartbeat wait (the token is
   stored by the task's Lambda, so a fast client can answer before the Lambda's result is back)
   is not lost: moto would otherwise wait out HeartbeatSeconds and report a heartbeat timeout.
   The new heartbeat endpoint is told at once when the answer is already in.
11. `arn:aws:states:::states:startExecution`: moto passes the ASL's PascalCase parameters
   (StateMachineArn, Name, Input) to boto3's camelCase API and fails with States.Runtime; they
   are normalised to the operation's shapes both ways, as LocalStack does.
12. moto's DynamoDB is not thread-safe: conditional writes were not atomic (two rides could both
   reserve one car), and an answer read an item another request was updating in place. DynamoDB
   requests are answered one at a time, from parsing to the serialised answer.
13. A lost heartbeat is `States.HeartbeatTimeout` on AWS; moto reports every task timeout as
   `States.Timeout`.
14. Every JSONPath the engine evaluates was parsed anew by jsonpath_ng (a new PLY parser each
   time: about half the engine's CPU on the register path); parsed paths are cached (ResultPath's
   too). A parsed path is read-only, so sharing it is safe. moto's list of a response class's
   methods, built with inspect on every request, is kept per class.
15. Mocked service integrations (Step Functions Local's MockConfigFile.json, see
   workflows/definitions/mock_config.py): StartExecution on `<stateMachineArn>#<TestCase>` runs that test
   case's mocked responses. moto ships the engine half (ExecutionWorker's `mock_test_case`, read by
   every Task state) but neither the file loader nor the StartExecution wiring; the backend's
   `start_execution` and `Execution._get_start_execution_worker` are wrapped to supply both. And
   the DynamoDB integration's `_from_error` renames every non-ClientError, a mocked Throw included,
   to DynamoDB.AmazonDynamoDBException; it is wrapped so a mocked error keeps its name.
16. GetExecutionHistory is serialised straight to JSON instead of through moto's generic
   response serialiser (a quarter of the CPU of `fleet up` under load went to history reads),
   and honours includeExecutionData=false, which moto ignores. DynamoDB GetItem, Query and Scan
   answers are serialised straight to JSON too (the AVAILABLE-cars query of every dispatch).
17. TransactWriteItems keeps a copy of the items it touches for its rollback, not of every table
   it names (moto deep-copies whole tables: each car reservation copied the Cars table).
18. A task cancelled while it ran (its Parallel branch or Map iteration was cancelled, the
   execution stopped) ends quietly; moto failed it with States.Runtime, a race seen in traces.
19. `moto.batch`'s package __init__ (Batch's and EC2's backends, 0.8 s of imports) runs on its
   first use, not when the engine imports the Batch integration's one enum.
20. Injected table faults (workflows/local/faults.py): DynamoDB requests on a table the faults
   file names may be refused with ProvisionedThroughputExceededException.
21. An UpdateItem's UpdateExpression was parsed twice per request and its tree deep-copied once
   more (the validator rewrites its copy in place): parses are cached per expression text, and
   the validator's copy is a pickle round trip (a third of deepcopy's cost). The cached tree is
   never written: only the validator's copy is.
22. moto's engine appends every thread it starts (about six per execution) to a module list,
   `TMP_THREADS`, that LocalStack joins at shutdown and moto never reads: a `fleet up` serving for
   hours grew without bound. Finished threads are dropped from it as executions end.
23. The engine deep-copies the state's JSON at every turn (each `$.` path read copies the whole
   input, and the input, result, parameters and stack are copied again between states). Those
   copies, which only ever hold JSON values, are made by a copier for JSON (dicts, lists, text,
   numbers, booleans, null; anything else still deep-copied): about 4% of a registration's CPU,
   measured A/B.

And EventBridge: moto raises NotImplementedError for a Lambda rule target, so matching events
for Lambda targets are handed to the runtime's asynchronous invoke (AWS's async contract).

`tests/workflows/test_moto_adapter.py` fails loudly if an upgrade moves any of these.
"""

from __future__ import annotations

import copy
import datetime as dt_module
import functools
import importlib
import json
import logging
import pickle
import pkgutil
import sys
import threading
import types
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import moto
from botocore import UNSIGNED
from botocore.config import Config


def _defer_batch_package() -> None:
    """moto's Step Functions engine imports `moto.batch.utils` for one enum (its Batch
    integration), and `moto/batch/__init__.py` imports Batch's backend, which imports EC2's:
    0.8 s of every process that starts a local cloud, for a service the workflows never call.
    `moto.batch` is registered as its package without running its __init__, so the submodule
    loads alone; the first use of anything else in `moto.batch` runs the __init__ then."""
    import importlib.util
    import sys

    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    package = importlib.util.module_from_spec(spec)

    def load_on_first_use(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        del package.__getattr__  # type: ignore[attr-defined]
        spec.loader.exec_module(package)  # type: ignore[union-attr]
        return getattr(package, name)

    package.__getattr__ = load_on_first_use  # type: ignore[attr-defined]
    sys.modules["moto.batch"] = package
    moto.batch = package  # type: ignore[attr-defined]


_defer_batch_package()
from moto.core import responses as moto_utils_users
from moto.dynamodb import exceptions as dynamodb_exceptions
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing import validators as dynamodb_validators
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.events import models as events_models
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import state_parallel
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service,
    state_task_service_dynamodb,
    state_task_service_sfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval import states as engine_states
from moto.stepfunctions.parser.asl.eval.callback import callback
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.backend import execution_worker
from moto.stepfunctions.parser.mocking import mock_config as moto_mocking
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

from workflows.definitions import mock_config
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
                # machine's Retry is the only retry policy, as on AWS. Unsigned: moto checks no
                # signature in process, and SigV4 was a tenth of the CPU of each call.
                client = boto3.client(
                    service, region_name=region, aws_access_key_id="ak", aws_secret_access_key="sk",
                    config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                                  signature_version=UNSIGNED),
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
        execution["StartTime"] = start.astimezone(dt_module.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return env


_Sfn = state_task_service_sfn.StateTaskServiceSfn
_ORIGINAL_SFN_PARAMETERS = _Sfn._normalise_parameters
_ORIGINAL_SFN_RESPONSE = _Sfn._normalise_response


def _sfn_operation(task: Any) -> Any:
    import botocore.session

    action = task.resource.api_action
    return botocore.session.get_session().get_service_model("stepfunctions").operation_model(action[0].upper() + action[1:])


def _sfn_parameters(self: Any, parameters: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
    _ORIGINAL_SFN_PARAMETERS(self, parameters, boto_service_name, service_action_name)
    if service_action_name is None:
        self._to_boto_request(parameters, _sfn_operation(self).input_shape)


def _sfn_response(self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
    _ORIGINAL_SFN_RESPONSE(self, response, boto_service_name, service_action_name)
    if service_action_name is None and isinstance(response, dict):
        self._from_boto_response(response, _sfn_operation(self).output_shape)


_ORIGINAL_DYNAMODB_CALL_ACTION = dynamodb_responses.DynamoHandler.call_action
_dynamodb_requests = threading.RLock()


def _one_dynamodb_request_at_a_time(self: Any) -> Any:
    """DynamoDB requests are answered one at a time, from parsing to the serialised answer. moto
    is not thread-safe: two conditional writes could both pass (two rides reserving one car), and
    an answer built from an item another request is updating in place fails with `dictionary keys
    changed during iteration`."""
    with _dynamodb_requests:
        return _ORIGINAL_DYNAMODB_CALL_ACTION(self)


class _ThroughputExceeded(dynamodb_exceptions.DynamodbException):
    def __init__(self, table_name: str):
        super().__init__(dynamodb_exceptions.ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException",
                         "The level of configured provisioned throughput for the table was exceeded. "
                         f"Consider increasing your provisioning level with the UpdateTable API. (injected for {table_name})")


_TABLE_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan", "transact_write_items")


_in_table_request = threading.local()


def _with_table_faults(operation: Any, name: str) -> Any:
    """Fault injection per table (workflows/local/faults.py): a request on a table the faults
    file names may be refused as DynamoDB refuses one past its capacity. Decided once per
    request: a transaction's own calls to the backend are not asked again."""

    @functools.wraps(operation)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        fault = getattr(getattr(_Bindings.runtime, "fault_hook", None), "table_fault", None)
        if fault is None or getattr(_in_table_request, "active", False):
            return operation(self, *args, **kwargs)
        if name == "transact_write_items":
            entries = kwargs.get("transact_items", args[0] if args else [])
            tables = [op.get("TableName") for entry in entries for op in entry.values() if isinstance(op, dict)]
        else:
            tables = [kwargs.get("table_name", args[0] if args else None)]
        for table in dict.fromkeys(tables):
            if table and fault(table):
                raise _ThroughputExceeded(table)
        _in_table_request.active = True
        try:
            return operation(self, *args, **kwargs)
        finally:
            _in_table_request.active = False

    run.table_faults = True  # type: ignore[attr-defined]
    return run


_ORIGINAL_TRANSACT_WRITE = DynamoDBBackend.transact_write_items


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems that keeps a copy of the items it touches, not of their tables: moto
    deep-copies every table a transaction names before writing, so each reservation copied the
    whole Cars table and every DynamoDB request waited for it (the main cost of dispatch under load).
    The snapshot is taken under the request lock, so it is the state the transaction started from."""
    touched = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = self.tables[op["TableName"]]
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, StopIteration, TypeError, AttributeError):
            continue  # an entry moto refuses: it writes nothing
        touched.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        _ORIGINAL_TRANSACT_WRITE(self, transact_items)
    except Exception:
        for table, hash_key, range_key, before in reversed(touched):
            _restore(table, hash_key, range_key, before)
        raise


def _restore(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
    elif before is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = before


def _deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
    """moto.dynamodb.models' copy.deepcopy: a Table is not copied (its transaction's rollback is
    _transact_write_items' copy of the touched items); anything else is."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_TABLE_SHARING_COPY = types.SimpleNamespace(deepcopy=_deepcopy_but_tables, copy=copy.copy)


_JSON_ATOMS = frozenset({str, int, float, bool, type(None)})


def _copy_json_value(value: Any, memo: Any = None) -> Any:
    """copy.deepcopy for a JSON value, several times faster. Exact types only: a dict or list
    subclass, a datetime, a Decimal or any other object is deep-copied as before."""
    kind = type(value)
    if kind is dict:
        return {key: _copy_json_value(item) for key, item in value.items()}
    if kind is list:
        return [_copy_json_value(item) for item in value]
    if kind in _JSON_ATOMS:
        return value
    return copy.deepcopy(value, memo)


_JSON_COPY = types.SimpleNamespace(deepcopy=_copy_json_value, copy=copy.copy)
# The engine modules whose copy.deepcopy only ever copies a state's JSON (input, result, error
# output, parameters, stack, a path's value, a history event's details).
_JSON_COPYING_MODULES = (engine_states, string_expression, result_path, execute_state, state_map, state_parallel,
                         state_task_service, event_manager)


_parse_update_expression = functools.lru_cache(maxsize=1024)(UpdateExpressionParser.make.__func__)


def _cached_update_expression(cls: Any, expression: str) -> Any:
    """A parse error is raised again each time (lru_cache keeps only results)."""
    return _parse_update_expression(cls, expression)


def _copy_expression_tree(value: Any, memo: Any = None) -> Any:
    """The validator's private copy of a (cached, shared) expression tree."""
    try:
        return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(value, memo)


_ORIGINAL_TASK_ERROR = state_task.StateTask._from_error


def _task_error(self: Any, env: Any, ex: Exception) -> Any:
    if isinstance(ex, callback.HeartbeatTimeoutError):
        name = StatesErrorNameType.StatesHeartbeatTimeout
        return FailureEvent(env=env, error_name=StatesErrorName(typ=name), event_type=HistoryEventType.TaskTimedOut,
                            event_details=EventDetails(taskTimedOutEventDetails=TaskTimedOutEventDetails(error=name.to_name())))
    return _ORIGINAL_TASK_ERROR(self, env, ex)


_ORIGINAL_EVALUATE_WITH_TIMEOUT = execute_state.ExecutionState._evaluate_with_timeout


def _evaluate_unless_cancelled(self: Any, env: Any) -> None:
    """A task whose branch was cancelled while it ran (a sibling branch of its Parallel failed, a
    Map iteration failed, the execution was stopped) ends quietly, as on AWS. moto skips the rest
    of the task's evaluation once its environment has ended and then fails on what it skipped
    (`'dict' object has no attribute 'region'`), recording a States.Runtime failure for the branch."""
    try:
        _ORIGINAL_EVALUATE_WITH_TIMEOUT(self, env)
    except Exception:
        if env.is_running():
            raise


_ORIGINAL_JSONPATH_PARSE = json_path.parse
_cached_jsonpath_parse = functools.lru_cache(maxsize=4096)(_ORIGINAL_JSONPATH_PARSE)
# ResultPath parses with jsonpath_ng's own parse (not the ext one json_path uses): cached too.
_cached_result_path_parse = functools.lru_cache(maxsize=4096)(result_path.parse)
# moto lists a response class's methods (inspect.getmembers) on every request; a class's methods
# do not change while it serves, so the list is kept per class.
_method_names = functools.lru_cache(maxsize=None)(moto_utils_users.method_names_from_class)


_ORIGINAL_SETUP_HEARTBEAT = callback.CallbackEndpoint.setup_heartbeat_endpoint


def _setup_heartbeat_endpoint(self: Any, heartbeat_seconds: int) -> Any:
    endpoint = _ORIGINAL_SETUP_HEARTBEAT(self, heartbeat_seconds)
    if self.get_outcome() is not None:
        endpoint.notify()
    return endpoint


_ORIGINAL_ASL_PARSER = asl_parser.AmazonStateLanguageParser
_programs: dict[str, Any] = {}
_parsing = threading.Lock()


class _CachingAslParser:
    """moto parses a definition when the state machine is created (to validate it) and again for
    every execution (~110 ms for the register workflow). Both now share one parse per definition.
    The component tree is read-only after parsing (per-execution state lives in each execution's
    Environment) except for each component's lazily drawn heap key, which is drawn once, up
    front. A burst of first executions waits for the one parse instead of each parsing (a parse
    holds the GIL; twenty at once starved the Lambdas). A definition that fails to parse raises
    as before and is not kept."""

    @staticmethod
    def parse(definition: str) -> Any:
        parsed = _programs.get(definition)
        if parsed is None:
            with _parsing:
                parsed = _programs.get(definition)
                if parsed is None:
                    parsed = _ORIGINAL_ASL_PARSER.parse(definition)
                    _draw_heap_keys(parsed[0])
                    _programs[definition] = parsed
        return parsed


def _draw_heap_keys(root: Any) -> None:
    """Touch every component's heap_key once, so it is never drawn lazily under concurrency."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            node.heap_key  # noqa: B018 - drawn for its side effect
        if isinstance(node, (list, tuple, set)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif hasattr(node, "__dict__") and type(node).__module__.startswith("moto.stepfunctions"):
            stack.extend(vars(node).values())


_ORIGINAL_HISTORY = StepFunctionResponse.get_execution_history


def _history_as_json(self: Any) -> str:
    """GetExecutionHistory, serialised straight to JSON. moto's generic response serialiser walks
    the service model for every attribute of every event: a quarter of `fleet up`'s CPU under
    load was spent there answering history reads (every GET /executions and trace reads one).
    The events are already in the API's shape; what the serialiser also does is drop absent
    (None) members and write timestamps as epoch seconds, so that is what this does.
    tests/workflows/test_moto_adapter.py checks the answer equals moto's own."""
    history = self.stepfunction_backend.get_execution_history(self._get_param("executionArn"))
    if self._get_param("includeExecutionData") is False:  # moto ignores it; AWS leaves the data out
        history = {**history, "events": [_without_execution_data(e) for e in history["events"]]}
    return json.dumps(_without_none(history), default=_epoch_seconds, separators=(",", ":"))


_EXECUTION_DATA = ("input", "output", "inputDetails", "outputDetails")


def _without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    return {k: {f: v for f, v in d.items() if f not in _EXECUTION_DATA} if k.endswith("EventDetails") and isinstance(d, dict)
            else d for k, d in event.items()}


_DYNAMODB_READS = ("get_item", "query", "scan")


def _read_as_json(read: Any) -> Any:
    """A DynamoDB read answered straight as JSON, not through moto's generic serialiser (which
    walked the service model for every attribute of every item: FindCandidates' query of the
    AVAILABLE cars was the largest cost of dispatch under load). Items are already in DynamoDB's
    JSON shape; anything else (bytes of a binary attribute) goes the stock way."""

    @functools.wraps(read)
    def run(self: Any) -> Any:
        result = read(self)
        if type(result) is not dynamodb_responses.DynamoResult:
            return result
        try:
            return json.dumps(_without_none(result.result), separators=(",", ":"))
        except TypeError:
            return result

    run.as_json = True  # type: ignore[attr-defined]
    return run


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _epoch_seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt_module.UTC)).timestamp()
    raise TypeError(f"{type(value).__name__} in an execution history")


_ORIGINAL_EXECUTION_LOGIC = execution_worker.ExecutionWorker._execution_logic
_running = threading.Condition()
_running_workers: set[Any] = set()  # the ExecutionWorkers whose thread is running
_ended: set[str] = set()
_THREADS_KEPT = 256  # TMP_THREADS is pruned once it holds more than this


def _counted_execution_logic(self: Any) -> Any:
    with _running:
        _running_workers.add(self)
    try:
        return _ORIGINAL_EXECUTION_LOGIC(self)
    finally:
        with _running:
            _running_workers.discard(self)
            _ended.add(self._evaluation_details.execution_details.arn)
            if len(TMP_THREADS) > _THREADS_KEPT:
                TMP_THREADS[:] = [t for t in TMP_THREADS if t.is_alive()]
            _running.notify_all()


def wait_for_executions(timeout_s: float) -> bool:
    """Block until no execution worker runs (True), or the timeout passes (False)."""
    with _running:
        return _running.wait_for(lambda: not _running_workers, timeout=timeout_s)


def wait_for_execution_end(execution_arn: str, timeout_s: float) -> bool:
    """Block until this execution's worker has finished (True), or the timeout passes."""
    with _running:
        return _running.wait_for(lambda: execution_arn in _ended, timeout=timeout_s)


def interrupt_waits() -> None:
    """Wake every task of a running execution that waits for a token (the executions have been
    stopped): stock moto leaves such a thread waiting out its TimeoutSeconds, an hour for a trip."""
    with _running:
        workers = list(_running_workers)
    for worker in workers:
        env = getattr(worker, "env", None)
        pool = getattr(getattr(env, "callback_pool_manager", None), "_pool", {}) if env is not None else {}
        for endpoint in list(pool.values()):
            endpoint.interrupt_all()


def abandon_stragglers() -> None:
    """Forget workers that did not end in time, so the next local cloud does not wait for them."""
    with _running:
        _running_workers.clear()
        _running.notify_all()


def forget_ended() -> None:
    with _running:
        _ended.clear()


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
_Bindings.mock_config = None  # type: ignore[attr-defined]


_ORIGINAL_START_EXECUTION = parser_models.StepFunctionsParserBackend.start_execution
_ORIGINAL_START_WORKER = backend_execution.Execution._get_start_execution_worker
_starting = threading.local()  # the test case of the StartExecution running on this thread


def _start_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                     trace_header: Any = None) -> Any:
    base_arn, test_case_name = mock_config.split_arn(state_machine_arn)
    if test_case_name is None:
        return _ORIGINAL_START_EXECUTION(self, state_machine_arn, name, execution_input, trace_header)
    state_machine = self.describe_state_machine(base_arn)  # StateMachineDoesNotExist, as for any start
    try:
        config = mock_config.MockConfig.load(_Bindings.mock_config)  # type: ignore[attr-defined]
        test_case = _moto_test_case(config.test_case(state_machine.name, test_case_name))
    except mock_config.MockConfigError as exc:
        from moto.stepfunctions.exceptions import InvalidName

        raise InvalidName(f"Invalid mock test case {test_case_name!r}: {exc}") from None
    _starting.test_case = test_case
    try:
        return _ORIGINAL_START_EXECUTION(self, base_arn, name, execution_input, trace_header)
    finally:
        _starting.test_case = None


def _start_worker_with_test_case(self: Any) -> Any:
    worker = _ORIGINAL_START_WORKER(self)
    test_case = getattr(_starting, "test_case", None)
    if test_case is not None:
        worker._mock_test_case = test_case
    return worker


_DynamoDBTask = state_task_service_dynamodb.StateTaskServiceDynamoDB
_ORIGINAL_DYNAMODB_FROM_ERROR = _DynamoDBTask._from_error


def _dynamodb_from_error(self: Any, env: Any, ex: Exception) -> Any:
    if isinstance(ex, FailureEventException):  # a mocked Throw: already the failure, with its name
        return ex.failure_event
    return _ORIGINAL_DYNAMODB_FROM_ERROR(self, env, ex)


def _moto_test_case(case: mock_config.MockTestCase) -> Any:
    """Our parsed test case as moto's engine wants it."""
    states = []
    for state, (response_name, responses) in case.states.items():
        moto_responses = [
            moto_mocking.MockedResponseThrow(r.first, r.last, error=r.error, cause=r.cause) if r.throws
            else moto_mocking.MockedResponseReturn(r.first, r.last, payload=r.result)
            for r in responses
        ]
        states.append(moto_mocking.StateMockedResponses(state, response_name, moto_responses))
    return moto_mocking.MockTestCase(case.state_machine, case.name, states)


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


def install(runtime: LambdaRuntime, clock: Clock, on_async_failure: Callable[[dict], None] | None = None,
            mock_config_path: str | Path | None = None) -> None:
    """Point moto's engine at this runtime and clock. Idempotent; later calls rebind.
    `mock_config_path`: the MockConfigFile.json test cases come from (default: $SFN_MOCK_CONFIG,
    else statemachines/MockConfigFile.json); read at each StartExecution that names a test case."""
    global _installed
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"workflows.local.moto_adapter is written against moto {MOTO_VERSION}, found {moto.__version__}: "
            "re-check the seams listed in its docstring and update MOTO_VERSION"
        )
    _Bindings.runtime = runtime
    _Bindings.clock = clock
    _Bindings.on_async_failure = on_async_failure  # type: ignore[attr-defined]
    _Bindings.mock_config = mock_config_path  # type: ignore[attr-defined]
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
    execution_worker.ExecutionWorker._execution_logic = _counted_execution_logic
    execution_worker.AmazonStateLanguageParser = _CachingAslParser
    parser_models.AmazonStateLanguageParser = _CachingAslParser
    moto_utils_users.method_names_from_class = _method_names
    result_path.parse = _cached_result_path_parse
    callback.CallbackEndpoint.setup_heartbeat_endpoint = _setup_heartbeat_endpoint
    _Sfn._normalise_parameters = _sfn_parameters
    _Sfn._normalise_response = _sfn_response
    DynamoDBBackend.transact_write_items = _transact_write_items
    for name in _TABLE_OPERATIONS:
        setattr(DynamoDBBackend, name, _with_table_faults(getattr(DynamoDBBackend, name), name))
    dynamodb_models.copy = _TABLE_SHARING_COPY
    dynamodb_responses.DynamoHandler.call_action = _one_dynamodb_request_at_a_time
    UpdateExpressionParser.make = classmethod(_cached_update_expression)
    dynamodb_validators.deepcopy = _copy_expression_tree
    for module in _JSON_COPYING_MODULES:
        module.copy = _JSON_COPY
    state_task.StateTask._from_error = _task_error
    execute_state.ExecutionState._evaluate_with_timeout = _evaluate_unless_cancelled
    json_path.parse = _cached_jsonpath_parse
    parser_models.datetime = _CLOCK_DATETIME_MODULE
    backend_execution.datetime = _CLOCK_DATETIME_MODULE
    parser_models.StepFunctionsParserBackend.start_execution = _start_execution
    backend_execution.Execution._get_start_execution_worker = _start_worker_with_test_case
    _DynamoDBTask._from_error = _dynamodb_from_error
    StepFunctionResponse.get_execution_history = _history_as_json
    for name in _DYNAMODB_READS:
        setattr(dynamodb_responses.DynamoHandler, name, _read_as_json(getattr(dynamodb_responses.DynamoHandler, name)))
    _installed = True


def seams() -> dict[str, bool]:
    """Which seams are in place; the adapter test asserts every one is True after install()."""
    return {
        "boto_client_for": all(
            m.boto_client_for is _client_for for m in engine_modules() if hasattr(m, "boto_client_for")
        ),
        "retry_sleep": isinstance(retrier_decl.time, types.SimpleNamespace),
        "wait_state": wait_function.WaitFunction._wait_interval is _wait_interval,
        "task_timeouts": execute_state.threading.Event is ClockEvent and callback.Event is ClockEvent,
        "history_timestamps": event_manager.EventManager.__dict__["_get_current_timestamp"].__func__ is _timestamp,
        "eventbridge_lambda_targets": events_models.Rule.send_to_targets is _send_to_targets,
        "execution_dates": parser_models.datetime is _CLOCK_DATETIME_MODULE
        and backend_execution.datetime is _CLOCK_DATETIME_MODULE,
        "sfn_start_execution": _Sfn._normalise_parameters is _sfn_parameters and _Sfn._normalise_response is _sfn_response,
        "one_dynamodb_request_at_a_time": dynamodb_responses.DynamoHandler.call_action is _one_dynamodb_request_at_a_time,
        "json_copies": all(m.copy is _JSON_COPY for m in _JSON_COPYING_MODULES),
        "update_expression_cache": UpdateExpressionParser.make.__func__ is _cached_update_expression
        and dynamodb_validators.deepcopy is _copy_expression_tree,
        "jsonpath_parse_cache": json_path.parse is _cached_jsonpath_parse,
        "heartbeat_timeout_name": state_task.StateTask._from_error is _task_error,
        "batch_package_deferred": "moto.batch" in sys.modules,
        "cancelled_task_ends_quietly": execute_state.ExecutionState._evaluate_with_timeout is _evaluate_unless_cancelled,
        "early_token_answer": callback.CallbackEndpoint.setup_heartbeat_endpoint is _setup_heartbeat_endpoint,
        "parsed_program_cache": execution_worker.AmazonStateLanguageParser is _CachingAslParser
        and parser_models.AmazonStateLanguageParser is _CachingAslParser,
        "response_method_names": moto_utils_users.method_names_from_class is _method_names,
        "result_path_parse_cache": result_path.parse is _cached_result_path_parse,
        "running_executions": execution_worker.ExecutionWorker._execution_logic is _counted_execution_logic,
        "context_start_time": execution_worker.ExecutionWorker._get_evaluation_environment
        is _environment_with_text_start_time,
        "mock_test_cases": parser_models.StepFunctionsParserBackend.start_execution is _start_execution
        and backend_execution.Execution._get_start_execution_worker is _start_worker_with_test_case
        and _DynamoDBTask._from_error is _dynamodb_from_error,
        "history_serialisation": StepFunctionResponse.get_execution_history is _history_as_json,
        "dynamodb_reads_as_json": all(getattr(getattr(dynamodb_responses.DynamoHandler, n), "as_json", False)
                                      for n in _DYNAMODB_READS),
        "table_faults": all(getattr(getattr(DynamoDBBackend, n), "table_faults", False) for n in _TABLE_OPERATIONS),
        "transaction_rollback_by_item": DynamoDBBackend.transact_write_items.__wrapped__ is _transact_write_items
        and dynamodb_models.copy is _TABLE_SHARING_COPY,
    }
