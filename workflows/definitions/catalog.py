"""The catalog: every function, table, queue, bus and state machine, declared once.

Plain Python data, no CDK import. `infra/` turns it into CloudFormation; `workflows/local/`
turns it into moto resources and in-process handlers. Values that name another resource are
`Ref`s, so each runtime resolves them to its own names and ARNs (CDK tokens on AWS, moto ARNs
locally) and nothing is spelled twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
STATEMACHINES_DIR = ROOT / "statemachines"
LAMBDAS_DIR = ROOT / "lambdas"

PREFIX = "fleet"

ResourceKind = Literal["function", "table", "queue", "bus", "state_machine"]
Attribute = Literal["name", "arn", "url"]


@dataclass(frozen=True)
class Ref:
    """A reference to another catalog resource, resolved per runtime."""

    kind: ResourceKind
    logical_id: str
    attribute: Attribute


@dataclass(frozen=True)
class Grant:
    """What a function's role allows on one catalog resource: exactly the IAM actions it calls
    there (checked against what it is observed to call: tests/infra/test_least_privilege.py).
    `index`: the actions apply to that index of the table (a Query through it), not to the table."""

    resource: Ref
    actions: tuple[str, ...]
    index: str | None = None


@dataclass(frozen=True)
class Function:
    logical_id: str  # the ASL state that calls it is named the same where there is one
    handler: str  # module.function, relative to lambdas/
    description: str
    timeout_s: int = 10
    memory_mb: int = 256
    environment: Mapping[str, str | Ref] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    # Least privilege: the only AWS calls its role allows beyond its logs and traces.
    grants: tuple[Grant, ...] = ()

    @property
    def function_name(self) -> str:
        return f"{PREFIX}-{_kebab(self.logical_id)}"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    logical_id: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    # Attribute types for keys; everything here is a string key except numeric sort keys.
    number_keys: tuple[str, ...] = ()
    ttl_attribute: str | None = None

    @property
    def table_name(self) -> str:
        return f"{PREFIX}-{_kebab(self.logical_id)}"

    def key_type(self, attribute: str) -> str:
        return "N" if attribute in self.number_keys else "S"


@dataclass(frozen=True)
class Queue:
    logical_id: str
    retention_days: int = 14

    @property
    def queue_name(self) -> str:
        return f"{PREFIX}-{_kebab(self.logical_id)}"


@dataclass(frozen=True)
class EventBus:
    logical_id: str
    # Rules: detail-type prefix filter on our source -> consumer function (invoked asynchronously).
    source: str = "fleet.cars"
    consumers: tuple[str, ...] = ()
    on_failure_queue: str = "CarEventFailures"
    max_event_age_s: int = 3600
    retry_attempts: int = 2

    @property
    def bus_name(self) -> str:
        return f"{PREFIX}-{_kebab(self.logical_id)}"


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    workflow: str  # the short name users type: `fleet run register`
    asl_file: str
    description: str
    # The input field that identifies the business operation; execution names derive from it,
    # so a client's retry of the same request starts no second execution.
    business_key: str = ""
    type: Literal["STANDARD", "EXPRESS"] = "STANDARD"

    @property
    def name(self) -> str:
        return f"{PREFIX}-{_kebab(self.logical_id)}"

    @property
    def asl_path(self) -> Path:
        return STATEMACHINES_DIR / self.asl_file

    def definition(self) -> str:
        return self.asl_path.read_text()

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.definition()))


PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _snake(name: str) -> str:
    return _kebab(name).replace("-", "_")


# --- resources -------------------------------------------------------------------------------

CARS = Table(
    "Cars",
    partition_key="car_id",
    # The fleet by status (the API's listings); FindCandidates queries the cars of the cells
    # around a pickup (geohash cells, fleet_domain/rules/geo.py), never the whole fleet.
    indexes=(Index("status-index", partition_key="status", sort_key="car_id"),
             Index("cell-index", partition_key="cell", sort_key="car_id"),
             Index("area-index", partition_key="area", sort_key="car_id")),
)
RIDES = Table("Rides", partition_key="ride_id")
MAINTENANCE_JOBS = Table(
    "MaintenanceJobs",
    partition_key="job_id",
    indexes=(Index("car-index", partition_key="car_id", sort_key="job_id"),),
)
CAR_HISTORY = Table("CarHistory", partition_key="car_id", sort_key="version", number_keys=("version",))
IDEMPOTENCY = Table("Idempotency", partition_key="id", ttl_attribute="expiration")
# The index of operational failures: each workflow's RecordFailure writes one row (keyed by the
# SHA-1 of the failed execution's ARN) before SendToDLQ sends its message. Operators list the open
# ones with a Query instead of receiving the whole queue; rows expire with the queue's retention.
FAILURES = Table(
    "Failures",
    partition_key="failure_id",
    indexes=(Index("status-index", partition_key="status", sort_key="failed_at"),),
    ttl_attribute="ttl",
)

TABLES: tuple[Table, ...] = (CARS, RIDES, MAINTENANCE_JOBS, CAR_HISTORY, IDEMPOTENCY, FAILURES)

DLQ = Queue("Dlq")
# Where EventBridge's asynchronous invocations of a consumer go once Lambda's retries are spent.
CAR_EVENT_FAILURES = Queue("CarEventFailures")
QUEUES: tuple[Queue, ...] = (DLQ, CAR_EVENT_FAILURES)

# The variable each resource a function may use is named by in its environment.
_ENV_NAMES: dict[Ref, str] = {
    Ref("table", "Cars", "name"): "CARS_TABLE",
    Ref("table", "Rides", "name"): "RIDES_TABLE",
    Ref("table", "MaintenanceJobs", "name"): "MAINTENANCE_JOBS_TABLE",
    Ref("table", "CarHistory", "name"): "CAR_HISTORY_TABLE",
    Ref("table", "Idempotency", "name"): "IDEMPOTENCY_TABLE",
    Ref("table", "Failures", "name"): "FAILURES_TABLE",
    Ref("bus", "FleetBus", "name"): "FLEET_BUS_NAME",
    Ref("queue", "Dlq", "url"): "DLQ_URL",
    Ref("state_machine", "RegisterCar", "arn"): "REGISTER_CAR_STATE_MACHINE_ARN",
    Ref("state_machine", "DispatchCar", "arn"): "DISPATCH_CAR_STATE_MACHINE_ARN",
    Ref("state_machine", "MaintainCar", "arn"): "MAINTAIN_CAR_STATE_MACHINE_ARN",
}
_POWERTOOLS_ENV = {"POWERTOOLS_SERVICE_NAME": "fleet", "POWERTOOLS_METRICS_NAMESPACE": "CarFleet"}


def _env(grants: tuple[Grant, ...], names: tuple[Ref, ...] = ()) -> dict[str, str | Ref]:
    """A function's environment names exactly the resources its grants let it use (and `names`:
    resources it recognises without calling them)."""
    env: dict[str, str | Ref] = dict(_POWERTOOLS_ENV)
    for g in (*grants, *(Grant(r, ()) for r in names)):
        for ref, name in _ENV_NAMES.items():
            if (ref.kind, ref.logical_id) == (g.resource.kind, g.resource.logical_id):
                env[name] = ref
    return env


# --- grants: what each function calls, and nothing else ---------------------------------------


def _table(logical_id: str, *actions: str, index: str | None = None) -> Grant:
    return Grant(Ref("table", logical_id, "arn"), tuple(f"dynamodb:{a}" for a in actions), index)


def _workflow(logical_id: str, *actions: str) -> Grant:
    return Grant(Ref("state_machine", logical_id, "arn"), tuple(f"states:{a}" for a in actions))


# Every status change a function writes is published by it to the fleet bus.
_PUBLISH = Grant(Ref("bus", "FleetBus", "arn"), ("events:PutEvents",))
# A car's status change and its ride or job are written together (a transaction of item updates).
_CAR_WRITE = _table("Cars", "UpdateItem")


def _fn(logical_id: str, description: str, grants: tuple[Grant, ...] = (), names: tuple[Ref, ...] = (),
        **kwargs) -> Function:
    """A lifecycle function: module named after the state that calls it (StartTrip -> start_trip)."""
    return Function(logical_id, handler=f"{_snake(logical_id)}.handler", description=description,
                    environment=_env(grants, names), grants=grants, **kwargs)


# The dispatch workflow (statemachines/dispatch_car.asl.json).
_DISPATCH_FUNCTIONS: tuple[Function, ...] = (
    _fn("FindCandidates", "Validates a ride request; AVAILABLE cars with seats and battery for it, nearest first.",
        grants=(_table("Cars", "Query", index="cell-index"), _table("Cars", "Query", index="area-index"))),
    _fn("PlanRoute", "Distance and ETA of a trip: car to pickup to dropoff."),
    _fn("StartTrip", "Hands the trip to the car (RESERVED -> ON_TRIP) and stores the task token on the ride.",
        grants=(_CAR_WRITE, _table("Rides", "UpdateItem"), _PUBLISH)),
    _fn("CompleteTrip", "Closes a trip: odometer and battery, car AVAILABLE, ride COMPLETED; is maintenance due?",
        grants=(_CAR_WRITE, _table("Rides", "GetItem", "UpdateItem"), _PUBLISH)),
    _fn("MarkRideFailed", "Operational failure of a dispatch: ride FAILED; a car on the trip OUT_OF_SERVICE, "
        "a car only reserved released.",
        # It reads the car first, to release only a car the ride holds then.
        grants=(_table("Cars", "GetItem", "UpdateItem"), _table("Rides", "UpdateItem"), _PUBLISH)),
)

_JOB_CLOSE = (_CAR_WRITE, _table("MaintenanceJobs", "UpdateItem"), _PUBLISH)

# The maintenance workflow (statemachines/maintenance.asl.json).
_MAINTENANCE_FUNCTIONS: tuple[Function, ...] = (
    _fn("EnterMaintenance", "Opens a maintenance job and moves the car AVAILABLE -> IN_MAINTENANCE, or refuses.",
        grants=(_table("Cars", "GetItem", "UpdateItem"), _table("MaintenanceJobs", "GetItem", "PutItem"), _PUBLISH)),
    _fn("Diagnose", "The checks a car in maintenance needs."),
    _fn("OrderParts", "Orders the parts the checks may need."),
    _fn("BookTechnician", "Books a technician for the job."),
    _fn("RunCheck", "Runs one check on the car."),
    _fn("RequestSignOff", "Stores the sign-off task token on the job; the technician resumes it.",
        grants=(_table("MaintenanceJobs", "GetItem", "UpdateItem"),)),
    _fn("RoadTest", "Drives the car after the sign-off."),
    _fn("ReturnToService", "Closes the job; the car goes IN_MAINTENANCE -> AVAILABLE.", grants=_JOB_CLOSE),
    _fn("RetireCar", "Closes the job; the car goes IN_MAINTENANCE -> RETIRED.", grants=_JOB_CLOSE),
    _fn("MarkMaintenanceFailed", "Operational failure of a maintenance: job FAILED, car OUT_OF_SERVICE.",
        grants=_JOB_CLOSE),
)

_API_GRANTS: tuple[Grant, ...] = (
    _table("Cars", "GetItem"),
    _table("Cars", "Query", index="status-index"),
    _table("Rides", "GetItem", "UpdateItem"),
    _table("MaintenanceJobs", "GetItem", "UpdateItem"),
    _table("CarHistory", "Query"),
    # Powertools idempotency: the record put, completed, read on a replay, deleted when the route fails.
    _table("Idempotency", "PutItem", "UpdateItem", "GetItem", "DeleteItem"),
    *(_workflow(sm, "StartExecution", "DescribeExecution", "GetExecutionHistory") for sm in ("RegisterCar",)),
    # Dispatch and maintenance wait for a task token: the trip's completion, the technician's sign-off.
    *(_workflow(sm, "StartExecution", "DescribeExecution", "GetExecutionHistory", "SendTaskSuccess")
      for sm in ("DispatchCar", "MaintainCar")),
    # The operators' DLQ view is the Failures table: the open ones by the status index, one read
    # for a redrive's claim (a conditional update), a message found without its row recorded.
    _table("Failures", "GetItem", "PutItem", "UpdateItem"),
    _table("Failures", "Query", index="status-index"),
    # The queue is only swept: received, released, deleted once its failure is redriven.
    Grant(Ref("queue", "Dlq", "arn"), ("sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage")),
)

_RECORD_CAR_EVENT_GRANTS = (_table("CarHistory", "PutItem"),)

# Executions that end without their own clean-up (stopped, timed out, failed outside their Catch).
_RELEASE_STRANDED = _fn(
    "ReleaseStranded",
    "Releases what an execution that ended without its own clean-up held: its ride or job FAILED, its car AVAILABLE "
    "(or REGISTRATION_FAILED), and why.",
    grants=(_table("Rides", "GetItem", "UpdateItem"), _table("Cars", "GetItem", "UpdateItem"),
            _table("Cars", "Query", index="status-index"), _table("MaintenanceJobs", "GetItem", "UpdateItem"), _PUBLISH),
    # It tells which workflow an execution ran by its state machine's ARN.
    names=tuple(Ref("state_machine", sm, "arn") for sm in ("RegisterCar", "DispatchCar", "MaintainCar")),
)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "ValidateCar",
        handler="validate_car.handler",
        description="Checks a registration request: VIN, year, model, seats.",
        timeout_s=5,
        memory_mb=256,
        environment=_env(()),
    ),
    Function(
        "InspectCar",
        handler="inspect_car.handler",
        description="Initial health check of a newly registered car.",
        timeout_s=15,
        memory_mb=256,
        environment=_env(()),
    ),
    Function(
        "RecordCarEvent",
        handler="record_car_event.handler",
        description="Audit consumer: keeps each car's ordered status history.",
        timeout_s=10,
        memory_mb=256,
        environment=_env(_RECORD_CAR_EVENT_GRANTS),
        grants=_RECORD_CAR_EVENT_GRANTS,
        reserved_concurrency=5,
    ),
    Function(
        "FleetApi",
        handler="api.handler",
        description="REST API: starts and resumes the workflows (API Gateway proxy).",
        timeout_s=29,
        memory_mb=512,
        environment=_env(_API_GRANTS),
        grants=_API_GRANTS,
    ),
    *_DISPATCH_FUNCTIONS,
    *_MAINTENANCE_FUNCTIONS,
    _RELEASE_STRANDED,
)

FLEET_BUS = EventBus("FleetBus", consumers=("RecordCarEvent",))
BUSES: tuple[EventBus, ...] = (FLEET_BUS,)


@dataclass(frozen=True)
class ExecutionStatusRule:
    """A rule on the account's default event bus for Step Functions' "Execution Status Change"
    events (which Step Functions publishes there for Standard workflows) of some of the catalog's
    state machines, with a function as its target, invoked asynchronously (retries, then
    `on_failure_queue`)."""

    logical_id: str
    function: str
    state_machines: tuple[str, ...]
    statuses: tuple[str, ...]
    on_failure_queue: str = "CarEventFailures"
    max_event_age_s: int = 3600
    retry_attempts: int = 2

    @property
    def rule_name(self) -> str:
        return f"{PREFIX}-{_kebab(self.logical_id)}"

    def pattern(self, state_machine_arn: Callable[[str], str]) -> dict[str, Any]:
        """The event pattern, given how this runtime spells a state machine's ARN (by logical id)."""
        return {
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": list(self.statuses),
                       "stateMachineArn": [state_machine_arn(sm) for sm in self.state_machines]},
        }


EXECUTION_STATUS_RULES: tuple[ExecutionStatusRule, ...] = (
    ExecutionStatusRule("ReleaseStrandedOnExecutionEnd", function="ReleaseStranded",
                        state_machines=("RegisterCar", "DispatchCar", "MaintainCar"),
                        statuses=("FAILED", "TIMED_OUT", "ABORTED")),
)

STATE_MACHINES: tuple[StateMachine, ...] = (
    StateMachine(
        "RegisterCar",
        workflow="register",
        asl_file="register_car.asl.json",
        description="Validate, persist, inspect and activate a new car.",
        business_key="vin",
    ),
    StateMachine(
        "DispatchCar",
        workflow="dispatch",
        asl_file="dispatch_car.asl.json",
        description="Find and reserve a car for a ride, run the trip, start maintenance when due.",
        business_key="ride_id",
    ),
    StateMachine(
        "MaintainCar",
        workflow="maintenance",
        asl_file="maintenance.asl.json",
        description="Diagnose, repair, sign off and road-test a car; back in service or retired.",
        business_key="car_id",
    ),
)

# Every ${Placeholder} an ASL file may use, and what it stands for. CDK passes these as
# DefinitionSubstitutions; the local cloud substitutes them before CreateStateMachine.
SUBSTITUTIONS: dict[str, Ref] = {
    **{f"{f.logical_id}FunctionArn": Ref("function", f.logical_id, "arn") for f in FUNCTIONS},
    **{f"{t.logical_id}TableName": Ref("table", t.logical_id, "name") for t in TABLES},
    "DlqUrl": Ref("queue", "Dlq", "url"),
    "FleetBusName": Ref("bus", "FleetBus", "name"),
    **{f"{s.logical_id}StateMachineArn": Ref("state_machine", s.logical_id, "arn") for s in STATE_MACHINES},
}


# --- lookups ---------------------------------------------------------------------------------


def function(logical_id: str) -> Function:
    return _lookup(FUNCTIONS, logical_id, "function")


def table(logical_id: str) -> Table:
    return _lookup(TABLES, logical_id, "table")


def state_machine(logical_id: str) -> StateMachine:
    return _lookup(STATE_MACHINES, logical_id, "state machine")


def workflow(name: str) -> StateMachine:
    """The state machine a user means by `fleet run <name>`."""
    for sm in STATE_MACHINES:
        if name in (sm.workflow, sm.logical_id, sm.name):
            return sm
    known = ", ".join(sm.workflow for sm in STATE_MACHINES)
    raise KeyError(f"unknown workflow {name!r} (known: {known})")


def function_by_name(function_name: str) -> Function:
    """Resolve a physical name, an ARN (with or without qualifier) or a logical id."""
    name = function_name.split(":function:")[-1].split(":")[0]
    for f in FUNCTIONS:
        if name in (f.function_name, f.logical_id):
            return f
    raise KeyError(f"Function not found: {function_name}")


def _lookup(items, logical_id, kind):
    for item in items:
        if item.logical_id == logical_id:
            return item
    raise KeyError(f"no {kind} {logical_id!r} in the catalog")


def substitute(definition: str, resolve) -> str:
    """Replace every ${Placeholder} with resolve(Ref); unknown placeholders are an error."""

    def one(match: re.Match) -> str:
        key = match.group(1)
        if key not in SUBSTITUTIONS:
            raise KeyError(f"ASL placeholder ${{{key}}} is not declared in catalog.SUBSTITUTIONS")
        return resolve(SUBSTITUTIONS[key])

    resolved = PLACEHOLDER.sub(one, definition)
    json.loads(resolved)  # a substitution must never break the JSON
    return resolved
