"""Which AWS actions each function calls, on which resources: what its IAM role must allow.

moto does not enforce IAM, so a role that misses an action passes every local test and fails on
AWS with AccessDenied. The local runtime marks the thread a handler runs on with the function's
logical id (`running`); a botocore hook records every call made while a `CallLog` is open, as an
IAM action (`dynamodb:TransactWriteItems` is recorded as the item actions it is authorized as, an
SQS batch as its single action) and
the catalog resource it names (`table:Cars`, `index:Cars/status-index`, `queue:Dlq`, ...).
`tests/infra/test_least_privilege.py` compares the calls with the synthesized roles.

    with CallLog() as log:
        ...                               # run executions, call the API
    log.calls()                           # {Call(function, action, resource), ...}

In an execution environment of its own (a process serving one function) the function is read
from `FLEET_FUNCTION` when no thread mark is set, and `FLEET_CALL_LOG=<file>` appends each call as a
JSON line there, for the parent's `CallLog.read_file`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore import handlers as botocore_handlers

from workflows.definitions import catalog

FUNCTION_ENV = "FLEET_FUNCTION"
FILE_ENV = "FLEET_CALL_LOG"
EVENT = "before-parameter-build"
_UNIQUE_ID = "fleet-call-log"

_local = threading.local()
_open: list[CallLog] = []
_open_lock = threading.Lock()

# botocore service name -> IAM prefix where they differ.
_IAM_PREFIX = {"stepfunctions": "states", "logs": "logs"}
# Items inside a transaction are authorized as the item actions they are (AWS's IAM for DynamoDB).
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem",
                     "Get": "GetItem"}


@dataclass(frozen=True, order=True)
class Call:
    function: str  # catalog logical id
    action: str  # IAM action: "dynamodb:UpdateItem"
    resource: str  # "table:Cars", "index:Cars/status-index", "queue:Dlq", "bus:FleetBus", "state_machine:DispatchCar", "*"


@contextlib.contextmanager
def running(function: str) -> Iterator[None]:
    """Calls made on this thread while the block runs are the function's."""
    outer = getattr(_local, "function", None)
    _local.function = function
    try:
        yield
    finally:
        _local.function = outer


class CallLog:
    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> CallLog:
        _install_on_existing_clients()
        with _open_lock:
            _open.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        with _open_lock:
            _open.remove(self)

    def add(self, calls: set[Call] | list[Call]) -> None:
        with self._lock:
            self._calls.update(calls)

    def calls(self) -> set[Call]:
        with self._lock:
            return set(self._calls)

    def by_function(self) -> dict[str, set[tuple[str, str]]]:
        found: dict[str, set[tuple[str, str]]] = {}
        for c in self.calls():
            found.setdefault(c.function, set()).add((c.action, c.resource))
        return found

    def read_file(self, path: Path) -> None:
        """Calls appended by execution environments in other processes."""
        if path.exists():
            self.add([Call(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()])


def record(calls: list[Call]) -> None:
    """Calls an execution environment reported with its invocation's result (lambda_runtime.py),
    added to every log open now."""
    if calls:
        with _open_lock:
            logs = list(_open)
        for log in logs:
            log.add(calls)


# --- what a call is, in IAM terms ------------------------------------------------------------------


def iam_calls(function: str, service: str, operation: str, params: Mapping[str, Any]) -> list[Call]:
    prefix = _IAM_PREFIX.get(service, service)
    if service == "dynamodb":
        return [Call(function, a, r) for a, r in _dynamodb(operation, params)]
    if service == "sqs":
        # SQS authorizes a batch as its single action (there is no sqs:DeleteMessageBatch in IAM).
        action = operation.removesuffix("Batch")
        return [Call(function, f"sqs:{action}", _queue(params.get("QueueUrl")))]
    if service == "events":
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries") or [] if isinstance(e, Mapping)}
        return [Call(function, f"events:{operation}", _bus(b)) for b in sorted(buses or {"default"})]
    if service == "stepfunctions":
        return [Call(function, f"states:{operation}", _state_machine(params))]
    return [Call(function, f"{prefix}:{operation}", "*")]


def _dynamodb(operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                found.append((f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind)}", _table(body.get("TableName"))))
        return found
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{operation}", _table(name)) for name in params.get("RequestItems") or {}]
    table = _table(params.get("TableName"))
    index = params.get("IndexName")
    if index:
        return [(f"dynamodb:{operation}", f"index:{table.split(':', 1)[1]}/{index}")]
    return [(f"dynamodb:{operation}", table)]


def _table(name: Any) -> str:
    name = str(name or "").rsplit("/", 1)[-1]
    for t in catalog.TABLES:
        if name == t.table_name:
            return f"table:{t.logical_id}"
    return f"table:?{name}"


def _queue(url: Any) -> str:
    name = str(url or "").rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    for q in catalog.QUEUES:
        if name == q.queue_name:
            return f"queue:{q.logical_id}"
    return f"queue:?{name}"


def _bus(name: str) -> str:
    name = name.rsplit("/", 1)[-1]
    for b in catalog.BUSES:
        if name == b.bus_name:
            return f"bus:{b.logical_id}"
    return f"bus:?{name}"


def _state_machine(params: Mapping[str, Any]) -> str:
    """The state machine a Step Functions call acts on: from a state machine or execution ARN.
    A task token names no resource a caller can read (the service resolves it): `*`."""
    arn = params.get("stateMachineArn") or params.get("executionArn")
    if not arn:
        return "*"
    parts = str(arn).split(":")
    name = parts[6] if len(parts) > 6 else str(arn)
    for sm in catalog.STATE_MACHINES:
        if name == sm.name:
            kind = "state_machine" if "stateMachineArn" in params else "executions"
            return f"{kind}:{sm.logical_id}"
    return f"state_machine:?{name}"


# --- the hook -------------------------------------------------------------------------------------


def _before_call(params: dict[str, Any], model: Any, **_: Any) -> None:
    function = getattr(_local, "function", None) or os.environ.get(FUNCTION_ENV)
    if function is None:
        return
    path = os.environ.get(FILE_ENV)
    if not _open and not path:
        return
    calls = iam_calls(function, model.service_model.service_name, model.name, params)
    with _open_lock:
        logs = list(_open)
    for log in logs:
        log.add(calls)
    if path:
        lines = "".join(json.dumps(c.__dict__) + "\n" for c in calls)
        with open(path, "a", encoding="utf-8") as out:  # one short append per call: atomic across processes
            out.write(lines)


def _register() -> None:
    hook = (EVENT, _before_call)
    if hook not in botocore_handlers.BUILTIN_HANDLERS:
        botocore_handlers.BUILTIN_HANDLERS.append(hook)


def _install_on_existing_clients() -> None:
    """Clients the functions made before this module was imported have their own copy of the
    hooks: give them this one too (once)."""
    clients = sys.modules.get("fleet_domain.platform.clients")
    for client in list(getattr(clients, "_clients", {}).values()):
        client.meta.events.register(EVENT, _before_call, unique_id=_UNIQUE_ID)


_register()
