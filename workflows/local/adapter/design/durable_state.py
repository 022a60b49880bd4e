"""The local cloud's state written through to its state store (workflows/local/state_store.py)
before a request is answered, and read back when a local cloud starts on the same directory:

- DynamoDB: the items each request wrote (design.dynamodb_writes: PutItem, UpdateItem, DeleteItem,
  BatchWriteItem, TransactWriteItems; a transaction rolled back writes what is there after the
  rollback), in one commit per request, while the request is isolated;
- SQS: after each request, the messages that came into or left each queue of the backend it
  touched (sent, deleted, moved to a dead-letter queue, purged);
- Step Functions: each execution when it starts (RUNNING) and when it ends, with its history.
  An ended execution then leaves the Python heap: moto's list keeps an `EndedExecution`, a few
  fields whose history is read from the store when asked for;
- the resources a client defines (tables, queues, state machines, event rules and targets): each
  successful request that creates, changes or deletes one, replayed in order at the next start
  before the items, messages and executions go back in (the local cloud's own resources are
  deployed by every start, before the store is attached, so they are not kept twice).

With no store attached (a local cloud without a state directory) every wrapper is a pass-through.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler
from moto.sqs.models import Message
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.parser.api import ExecutionStatus, GetExecutionHistoryOutput
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.backend import execution_worker
from moto.stepfunctions.responses import StepFunctionResponse

from workflows.local.adapter.design import compact_items, dynamodb_writes
from workflows.local.adapter.design.aws_front_door import json_params
from workflows.local.adapter.design.compact_items import native
from workflows.local.adapter.seam import Seam

if TYPE_CHECKING:
    from workflows.local.function_registry import FunctionRegistry
    from workflows.local.state_store import StateStore

_store: StateStore | None = None
_queues_lock = threading.Lock()
_kept_messages: dict[str, set[str]] = {}  # SQS: queue name -> ids of the messages the store holds
_sequence = [0]  # SQS: the order messages were first kept in


def attach(store: StateStore | None) -> None:
    """Write through to `store` from now on (None: stop writing)."""
    global _store
    _store = store
    compact_items.keep_cold_items_in(store)
    with _queues_lock:
        _kept_messages.clear()
    with _recent_lock:
        _recent_ends.clear()


def attached() -> StateStore | None:
    return _store


# --- DynamoDB -----------------------------------------------------------------------------


_unsettled = threading.local()  # this thread's writes queued for the store, not yet known committed


def _queued(pending: Any) -> None:
    if pending is not None:
        waiting = getattr(_unsettled, "writes", None)
        if waiting is None:
            waiting = _unsettled.writes = []
        waiting.append(pending)


def settle_this_threads_writes(store: StateStore) -> None:
    """Wait until what this thread's request queued is committed: its answer goes after."""
    waiting = getattr(_unsettled, "writes", None)
    if not waiting:
        return
    _unsettled.writes = []
    for pending in waiting:
        store.settle(pending)


def _settled(dispatch: Callable[..., Any]) -> Callable[..., Any]:
    """A DynamoDB request's answer leaves once its writes are committed. They were queued while
    the request was isolated (in its tables' order); the commit happens after the isolation is
    released, so requests on a table do not wait for each other's commits (the durability cost)."""
    @functools.wraps(dispatch)
    def run(handler: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return dispatch(handler, *args, **kwargs)
        finally:
            store = _store
            if store is not None:
                settle_this_threads_writes(store)

    return run


def _flush_items(written: list[dynamodb_writes.Written]) -> None:
    """The items a request wrote, as it left them, queued for one commit (design.dynamodb_writes
    tells this while the request is still isolated; _settled waits for the commit before the
    answer is sent)."""
    store = _store
    if store is None:
        return
    changes: dict[tuple[str, str], str | None] = {}
    for table, hash_key, range_key in written:
        item = dynamodb_writes.current(table, hash_key, range_key)
        key = compact_items.row_key(table.hash_key_attr, table.range_key_attr, native(hash_key),
                                    None if range_key is None else native(range_key))
        changes[(table.name, key)] = None if item is None else compact_items.item_json(item)
    _queued(store.submit_items((table, key, item) for (table, key), item in changes.items()))


def restore_items(store: StateStore, backend: Any) -> int:
    """Put every kept item back into its table (tables that no longer exist are skipped): as
    STORED, read from the store when asked for (design.compact_items). A row keyed as an earlier
    version keyed it (a number's text as written) is keyed again as compact_items.row_key does;
    a row that does not fit its table's key (a table deleted and made again) is dropped."""
    count = 0
    changes: list[tuple[str, str, str | None]] = []
    for table_name, key in store.item_keys():
        table = backend.tables.get(table_name)
        if table is None:
            continue
        attributes = json.loads(key)
        try:
            hash_key = native(DynamoType(attributes[table.hash_key_attr]))
            range_key = native(DynamoType(attributes[table.range_key_attr])) if table.range_key_attr else None
        except (KeyError, TypeError, AttributeError):
            changes.append((table_name, key, None))
            continue
        canonical = compact_items.row_key(table.hash_key_attr, table.range_key_attr, hash_key, range_key)
        count += 1
        if canonical != key:
            changes += [(table_name, key, None), (table_name, canonical, store.item(table_name, key))]
        if isinstance(table.items, compact_items.TableItems):
            table.items.put_stored(hash_key, range_key, store)
        else:
            table.put_item(json.loads(store.item(table_name, key) or "{}"))
    store.write_items(changes)
    return count


# --- SQS ----------------------------------------------------------------------------------


def _kept(service: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """A request of `service` with its lasting effects written through: SQS's messages (whatever
    the operation), and a resource definition once it succeeded."""
    def wrap(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(call_action)
        def run(handler: Any) -> Any:
            store = _store
            if store is None:
                return call_action(handler)
            operation = handler._get_action()
            if service == "stepfunctions":
                wait_for_ends_in_flight(operation, handler)
            try:
                answer = call_action(handler)
            finally:
                if service == "sqs":
                    reconcile_queues(store, handler.sqs_backend)
                    settle_this_threads_writes(store)
            if operation in DEFINITIONS[service] and _succeeded(answer):
                params = json_params(handler)  # query-protocol requests (old SDKs) are not kept
                if params is not None:
                    store.write_definition(service, operation, params)
                    if operation == "DeleteTable":
                        store.forget_table(str(params.get("TableName", "")).rsplit("/", 1)[-1])
            return answer

        return run

    return wrap


# The requests that define a resource, per service (moto's response class).
DEFINITIONS: dict[str, frozenset[str]] = {
    "dynamodb": frozenset({"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive"}),
    "sqs": frozenset({"CreateQueue", "SetQueueAttributes", "DeleteQueue"}),
    "stepfunctions": frozenset({"CreateStateMachine", "UpdateStateMachine", "DeleteStateMachine"}),
    "events": frozenset({"CreateEventBus", "DeleteEventBus", "PutRule", "DeleteRule", "PutTargets", "RemoveTargets"}),
}
_HANDLERS: dict[type, str] = {DynamoHandler: "dynamodb", SQSResponse: "sqs", StepFunctionResponse: "stepfunctions",
                              EventsHandler: "events"}


def _succeeded(answer: Any) -> bool:
    status = answer[0] if isinstance(answer, tuple) else 200
    return 200 <= int(status) < 300


def restore_definitions(store: StateStore, client: Callable[[str], Any], functions: FunctionRegistry | None = None) -> int:
    """Replay the kept definitions through the local cloud's clients, in order, and the functions
    created with the Lambda API through its function registry. One refused now (a resource the
    local cloud deploys itself, say) is skipped."""
    from botocore.exceptions import ClientError

    from workflows.local.function_registry import FunctionApiError

    count = 0
    for service, operation, params in store.definitions():
        try:
            if service == "lambda":
                if functions is None:
                    continue
                functions.replay(operation, params)
            else:
                client(service)._make_api_call(operation, params)
        except (ClientError, FunctionApiError):
            continue
        count += 1
    return count


def reconcile_queues(store: StateStore, backend: Any) -> None:
    """Bring the store's messages of each of this backend's queues to what the queue holds."""
    with _queues_lock:
        for name, queue in list(backend.queues.items()):
            held = {m.id: m for m in list(queue._messages)}
            kept = _kept_messages.setdefault(name, set())
            added = [m for mid, m in held.items() if mid not in kept]
            removed = [mid for mid in kept if mid not in held]
            if not added and not removed:
                continue
            rows = []
            for message in added:
                _sequence[0] += 1
                rows.append((message.id, _sequence[0], _message_json(message)))
            _queued(store.submit_messages(name, rows, removed))  # committed once the lock is released
            kept.difference_update(removed)
            kept.update(m.id for m in added)


def _message_json(message: Message) -> str:
    from workflows.local.state_store import dumps

    return dumps({"body": message.body, "attributes": message.message_attributes,
                  "system_attributes": message.system_attributes, "sent_timestamp": message.sent_timestamp,
                  "group_id": message.group_id, "deduplication_id": message.deduplication_id,
                  "sequence_number": message.sequence_number,
                  "receive_count": message.approximate_receive_count})


def restore_messages(store: StateStore, backend: Any) -> int:
    """Put every kept message back into its queue, visible (a receive in flight at the stop is
    over: its messages come back, as their visibility timeout would have brought them)."""
    from workflows.local.state_store import loads

    count = 0
    with _queues_lock:
        for queue_name, message_id, text in store.messages():
            queue = backend.queues.get(queue_name)
            if queue is None:
                continue
            fields = loads(text)
            message = Message(message_id, fields["body"], fields["system_attributes"])
            message.message_attributes = fields["attributes"]
            message.sent_timestamp = fields["sent_timestamp"]
            message.group_id, message.deduplication_id = fields["group_id"], fields["deduplication_id"]
            message.sequence_number = fields["sequence_number"]
            message.approximate_receive_count = fields["receive_count"]
            queue._messages.append(message)
            _kept_messages.setdefault(queue_name, set()).add(message_id)
            _sequence[0] += 1
            count += 1
    return count


# --- Step Functions -----------------------------------------------------------------------


def _recording_start(start: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(start)
    def run(worker: Any) -> None:
        execution = getattr(worker._execution_communication, "execution", None)
        if _store is not None and execution is not None:
            _store.write_execution(record_of(execution))
        start(worker)

    return run


# Executions whose end moto has set but the store not yet committed: a read of them waits, so no
# client sees an end a crash could lose (moto sets the status before it can be written).
_ending_lock = threading.Condition()
_ending: set[str] = set()
ENDING_WAIT_S = 30.0
READS_OF_ENDS = frozenset({"DescribeExecution", "GetExecutionHistory", "ListExecutions", "DescribeMapRun",
                           "DescribeStateMachineForExecution"})


def _recording_end(reflect: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(reflect)
    def run(communication: Any) -> None:
        store, execution = _store, communication.execution
        if store is None:
            reflect(communication)
            return
        arn = execution.exec_arn
        with _ending_lock:
            _ending.add(arn)
        try:
            reflect(communication)
            worker = execution.exec_worker
            env = getattr(worker, "env", None) if worker is not None else None
            history = env.event_manager.get_event_history() if env is not None else []
            record = record_of(execution)
            forgotten = store.write_execution(record, history)
            _remember_end(record, forgotten)
            _leave_heap(execution, record, forgotten)
        finally:
            with _ending_lock:
                _ending.discard(arn)
                _ending_lock.notify_all()

    return run


# The rows of the executions that ended last, input and output included: a client that waited for
# an end describes the execution right after it, and this answers without reading the store.
RECENT_ENDS = 256
_recent_lock = threading.Lock()
_recent_ends: OrderedDict[str, Any] = OrderedDict()  # ARN -> ExecutionRecord, oldest first


def _remember_end(record: Any, forgotten: list[str]) -> None:
    with _recent_lock:
        _recent_ends[record.arn] = record
        for arn in forgotten:
            _recent_ends.pop(arn, None)
        while len(_recent_ends) > RECENT_ENDS:
            _recent_ends.popitem(last=False)


def wait_for_ends_in_flight(operation: str, handler: Any) -> None:
    """Before a read that can show an execution's end: wait until the ends set by then (of the
    execution it names, or of all for a listing) are committed. The request is read only then."""
    if operation not in READS_OF_ENDS or not _ending:
        return
    named = (json_params(handler) or {}).get("executionArn")
    with _ending_lock:
        waiting = {named} & _ending if isinstance(named, str) else set(_ending)
        _ending_lock.wait_for(lambda: not waiting & _ending, timeout=ENDING_WAIT_S)


def record_of(execution: Any) -> Any:
    from workflows.local.state_store import ExecutionRecord

    status = execution.exec_status.value if execution.exec_status is not None else "RUNNING"
    output = None
    if status == "SUCCEEDED":
        output = json.dumps(execution.output, separators=(",", ":"))  # moto keeps the value: a string ends as "..."
    return ExecutionRecord(
        arn=execution.exec_arn, state_machine_arn=execution.state_machine_arn, name=execution.name,
        sm_type=str(getattr(execution.sm_type, "value", execution.sm_type)), status=status,
        start_date=execution.start_date.timestamp(),
        stop_date=execution.stop_date.timestamp() if execution.stop_date is not None else None,
        input=execution.execution_input, output=output, error=execution.error, cause=execution.cause)


def _state_machine_of(execution: Any) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[execution.account_id][execution.region_name]
    for machine in backend.state_machines:
        if machine.arn == execution.state_machine_arn:
            return machine
    return None


def _leave_heap(execution: Any, record: Any, forgotten: list[str]) -> None:
    """moto's list of the machine's executions keeps a light record instead of the execution
    (its worker, its evaluation environment and its history); forgotten ones leave the list."""
    machine = _state_machine_of(execution)
    if machine is None:
        return
    ended = EndedExecution.of(execution, machine, record)  # the machine, not the execution's copy of it
    gone = set(forgotten)
    executions = machine.executions
    for i in range(len(executions) - 1, -1, -1):  # it started lately: near the end of the list
        if executions[i] is execution:
            executions[i] = ended
            break
    if gone:
        executions[:] = [e for e in executions if e.execution_arn not in gone]


class _NoCallbacks:
    """What an ended execution's environment answers to a task token or a map run: not mine."""

    def notify(self, callback_id: str, outcome: Any) -> bool:
        return False

    def heartbeat(self, callback_id: str) -> bool:
        return False

    def get(self, arn: str) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _EndedEnvironment:
    callback_pool_manager = _NoCallbacks()
    map_run_record_pool_manager = _NoCallbacks()


class _EndedWorker:
    env = _EndedEnvironment()

    def stop(self, stop_date: datetime, error: str | None, cause: str | None) -> None:
        """An ended execution does not stop again."""


class EndedExecution:
    """An ended (or, restored, never to run again) execution as moto's backend lists, describes
    and answers for it; its input, output and history are read from the state store when asked
    for (a long-running cloud keeps up to Retention.max_executions of these in memory: their
    inputs and outputs, a few KB each, would be most of it). Slotted, with what can be derived
    derived (its name from its ARN): each is about 300 bytes with its ARN and dates."""

    __slots__ = ("exec_arn", "state_machine", "sm_type", "exec_status", "start_date", "stop_date", "error", "cause",
                 "account_id", "region_name", "role_arn")
    exec_worker = _EndedWorker()
    output_details: dict[str, bool] = {"included": True}  # the same for every one, read only
    trace_header = None

    def __init__(self, *, arn: str, state_machine: Any, sm_type: Any, status: str,
                 start_date: datetime, stop_date: datetime | None,
                 error: str | None, cause: str | None, account_id: str, region_name: str, role_arn: str):
        self.exec_arn = arn
        self.state_machine = state_machine
        self.sm_type = sm_type
        self.exec_status = ExecutionStatus(status)
        self.start_date, self.stop_date = start_date, stop_date
        self.error, self.cause = error, cause
        self.account_id, self.region_name, self.role_arn = account_id, region_name, role_arn

    @classmethod
    def of(cls, execution: Any, machine: Any, record: Any) -> EndedExecution:
        return cls(arn=record.arn, state_machine=machine, sm_type=execution.sm_type, status=record.status,
                   start_date=execution.start_date, stop_date=execution.stop_date, error=record.error,
                   cause=record.cause, account_id=execution.account_id, region_name=execution.region_name,
                   role_arn=execution.role_arn)

    @property
    def execution_arn(self) -> str:
        return self.exec_arn

    @property
    def name(self) -> str:
        return self.exec_arn.rsplit(":", 1)[1]  # an execution's name has no colon

    @property
    def state_machine_arn(self) -> str:
        return str(self.state_machine.arn)

    @property
    def status(self) -> str:
        return str(self.exec_status.value)

    @property
    def execution_input(self) -> str:
        kept = self._kept()
        return kept.input if kept is not None else "{}"

    @property
    def output(self) -> str | None:
        kept = self._kept()
        return kept.output if kept is not None else None

    def _kept(self) -> Any:
        """Its row: one of the last ends', or the store's (None: not kept, or no store)."""
        with _recent_lock:
            recent = _recent_ends.get(self.exec_arn)
        if recent is not None:
            return recent
        return _store.execution(self.exec_arn) if _store is not None else None

    @property
    def input_data(self) -> Any:
        return json.loads(self.execution_input)

    def stop(self, stop_date: datetime, error: str | None, cause: str | None) -> None:
        """An ended execution does not stop again."""

    def to_history_output(self) -> GetExecutionHistoryOutput:
        events: Any = _store.history(self.exec_arn) if _store is not None else None
        return GetExecutionHistoryOutput(events=events or [])


def restore_executions(store: StateStore, backend: Any, restart_cause: str) -> list[EndedExecution]:
    """Put every kept execution back in its state machine's list, as an EndedExecution. One that
    was RUNNING when the local cloud stopped ends ABORTED now, with `restart_cause` and an
    ExecutionAborted event closing its history. Returns those aborted (their status change is
    the caller's to publish, once the event bus is there)."""
    from workflows.local.state_store import ExecutionRecord

    machines = {m.arn: m for m in backend.state_machines}
    now = datetime.now(tz=UTC)
    aborted: list[EndedExecution] = []
    for record in store.executions():
        machine = machines.get(record.state_machine_arn)
        if machine is None:
            continue
        was_running = record.status == "RUNNING"
        if was_running:
            record = ExecutionRecord(**{**record.__dict__, "status": "ABORTED", "stop_date": now.timestamp(),
                                        "error": "LocalCloud.Restarted", "cause": restart_cause})
            history = store.history(record.arn) or [_started_event(record, machine)]
            history.append({"timestamp": now, "type": "ExecutionAborted", "id": len(history) + 1,
                            "previousEventId": len(history),
                            "executionAbortedEventDetails": {"error": record.error, "cause": record.cause}})
            store.write_execution(record, history)
        ended = EndedExecution(
            arn=record.arn, state_machine=machine, sm_type=machine.sm_type, status=record.status,
            start_date=datetime.fromtimestamp(record.start_date, tz=UTC),
            stop_date=datetime.fromtimestamp(record.stop_date, tz=UTC) if record.stop_date is not None else None,
            error=record.error, cause=record.cause, account_id=backend.account_id, region_name=backend.region_name,
            role_arn=machine.roleArn)
        machine.executions.append(ended)
        if was_running:
            aborted.append(ended)
    return aborted


@dataclass(frozen=True)
class Restored:
    items: int
    messages: int
    executions: int
    aborted: list[str]  # ARNs of the executions that were running, now ABORTED
    definitions: int = 0  # resource definitions a client had made, made again


def restore(store: StateStore, account_id: str, region: str, restart_cause: str,
            client: Callable[[str], Any], functions: FunctionRegistry | None = None) -> Restored:
    """Load what `store` keeps into moto's backends of this account and region (the local cloud's
    own resources are deployed already; those a client defined are defined again through
    `client`, its functions through the registry `functions`), then attach it. The executions
    that were running end ABORTED with `restart_cause`, and their status change is published like
    any abort's."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from workflows.local.adapter.fixes.execution_status_change_events import publish

    definitions = restore_definitions(store, client, functions)
    items = restore_items(store, dynamodb_backends[account_id][region])
    attach(store)
    messages = restore_messages(store, sqs_backends[account_id][region])
    sfn = stepfunctions_parser_backends[account_id][region]
    aborted = restore_executions(store, sfn, restart_cause)
    for execution in aborted:
        publish(execution)
    return Restored(items, messages, sum(len(m.executions) for m in sfn.state_machines), [e.exec_arn for e in aborted],
                    definitions)


def _started_event(record: Any, machine: Any) -> dict[str, Any]:
    return {"timestamp": datetime.fromtimestamp(record.start_date, tz=UTC), "type": "ExecutionStarted", "id": 1,
            "previousEventId": 0, "executionStartedEventDetails": {
                "input": record.input, "inputDetails": {"truncated": False}, "roleArn": machine.roleArn}}


SEAM = Seam(__name__, "tables' items, queues' messages, executions and client-defined resources written through "
                      "to the state store")
dynamodb_writes.listen(_flush_items)
for _handler, _service in _HANDLERS.items():
    SEAM.wrap(_handler, "call_action", _kept(_service))
SEAM.wrap(DynamoHandler, "_dispatch", _settled)
SEAM.wrap(execution_worker.ExecutionWorker, "start", _recording_start)
SEAM.wrap(backend_execution.BaseExecutionWorkerCommunication, "_reflect_execution_status", _recording_end)
