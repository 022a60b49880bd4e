"""Hostile input for the property-based tests (tests/reliability/test_hostile_*.py): strategies for
malformed events, wrong types, unicode, boundary numbers, nested garbage and oversized payloads;
valid templates of every function's event to mutate; and the checks every answer must pass.

Everything is seeded (settings(derandomize=True)) and bounded so the whole run stays about a
minute on two cores.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# --- settings ------------------------------------------------------------------------------------

#: Every hostile-input property: deterministic (the same examples on every run), no per-example
#: deadline (a cold handler import is slow), a bounded number of examples.
BOUNDED = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much],
)

# --- scalars -------------------------------------------------------------------------------------


class LongText(str):
    """A long string that reports itself briefly (falsifying examples stay readable)."""

    def __repr__(self) -> str:
        return f"LongText({self[:1]!r} * {len(self)})"


STEP_FUNCTIONS_LIMIT = 256 * 1024  # bytes of an execution's input or a state's data

SPECIAL_STRINGS = [
    "", " ", "\t\n", "\x00", "a\x00b", "\x1b[31m", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd",
    "\u0627\u0644\u0633\u064a\u0627\u0631\u0629",
    "\U0001F697\U0001F4A5", "\U0001F468\u200d\U0001F469\u200d\U0001F467", "\ufeffBOM", "\ud800", "\udfff", "a\ud83dz",
    "\U0001d518\U0001d52b\U0001d526", "e\u0301" * 3, "\uffff", "\U0010ffff", "../../etc/passwd", "C:\\Windows\\win.ini",
    "%s%n%x", "{0}{1}", "${jndi:ldap://x/a}", "<script>alert(1)</script>", "' OR '1'='1", "null", "NaN", "-0",
    "1e309", "true", "__proto__", "constructor", "arn:aws:states:us-east-1:123456789012:execution:x:y",
    "car-1HGCM82633A004352", LongText("x" * 1025), LongText("y" * 70_000),
]
#: Bigger than Step Functions' 256 KB limit on its own.
OVERSIZED_STRING = LongText("z" * (STEP_FUNCTIONS_LIMIT + 1024))

BOUNDARY_NUMBERS = [
    0, -1, 1, 0.5, -0.0, 1e-300, -1e-300, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308,
    float("nan"), float("inf"), float("-inf"), 2**31, 2**31 - 1, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**38,
    10**39, 10**100, 9.999999999999999e37, 1.0, 2024.0, 1e16, True, False,
]

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
any_character = st.one_of(st.characters(), surrogates, st.sampled_from(["\x00", "\u202e", "\u200f", "\U0001F697"]))

hostile_text = st.one_of(
    st.sampled_from(SPECIAL_STRINGS),
    st.text(any_character, max_size=24),
)
hostile_numbers = st.one_of(
    st.sampled_from(BOUNDARY_NUMBERS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
hostile_scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_text)
hostile_keys = st.one_of(st.sampled_from(["", "\x00", "\ud800", "detail-type", "Payload", "$", "..", "a.b", "__class__"]),
                         st.text(any_character, max_size=8))

#: Nested garbage: lists and objects of hostile scalars.
garbage = st.recursive(
    hostile_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(hostile_keys, children, max_size=4)),
    max_leaves=12,
)


def deep(value: Any, depth: int) -> Any:
    """`value` wrapped in `depth` levels of lists and objects (still well inside json's recursion)."""
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


# --- mutations of a valid event ------------------------------------------------------------------


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside `value` (the root is ())."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def _set(root: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    parent = root
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = new
    return root


def _delete(root: Any, path: tuple) -> Any:
    if not path:
        return None
    parent = root
    for p in path[:-1]:
        parent = parent[p]
    del parent[path[-1]]
    return root


def _get(root: Any, path: tuple) -> Any:
    for p in path:
        root = root[p]
    return root


MUTATIONS = ("garbage", "garbage", "scalar", "delete", "extra", "wrap", "deep", "oversized", "wrong_type")


@st.composite
def mutated(draw: st.DrawFn, template: Any, max_mutations: int = 2) -> Any:
    """`template` (a valid event) with one or two things wrong: a value replaced by garbage, a
    boundary number or hostile text, a field deleted or added, a value wrapped or nested deep, a
    value of another JSON type, or a string over Step Functions' 256 KB limit."""
    event = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, max_mutations))):
        path = draw(st.sampled_from(list(paths(event))))
        kind = draw(st.sampled_from(MUTATIONS))
        current = _get(event, path)
        if kind == "garbage":
            event = _set(event, path, draw(garbage))
        elif kind == "scalar":
            event = _set(event, path, draw(hostile_numbers if isinstance(current, (int, float)) else hostile_text))
        elif kind == "delete" and path:
            event = _delete(event, path)
        elif kind == "extra" and isinstance(current, dict):
            current[draw(hostile_keys)] = draw(garbage)
        elif kind == "wrap":
            event = _set(event, path, draw(st.sampled_from([[current], {"value": current}, json.dumps(current)])))
        elif kind == "deep":
            event = _set(event, path, deep(current, draw(st.integers(20, 200))))
        elif kind == "oversized":
            event = _set(event, path, OVERSIZED_STRING)
        elif kind == "wrong_type":
            event = _set(event, path, draw(st.sampled_from([None, True, 0, -1.5, "", [], {}, "x"])))
    return event


def hostile_events(template: Any) -> st.SearchStrategy:
    """Mostly mutations of a valid event (they reach the deep code paths), some plain garbage."""
    return st.one_of(mutated(template), mutated(template), mutated(template), garbage)


#: Raw payloads that are not JSON a handler could be given: Lambda answers 400 to these.
RAW_PAYLOADS = [
    b"{", b"}", b"[1,]", b"{'a': 1}", b"\xff\xfe\x00", b"\xed\xa0\x80", b"\"\\ud800\"x", b"nul", b"01",
    b"1" * 5000, b'{"n": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
]


# --- valid events, one per catalog function ------------------------------------------------------

AT = "2026-11-24T18:00:00.123Z"
VIN_A, VIN_B, VIN_C, VIN_D = "1HGCM82633A004352", "JH4KA7561PC008269", "WVWZZZ1JZXW000001", "5YJ3E1EA7KF000001"
CAR_A, CAR_B, CAR_C, CAR_D = (f"car-{v}" for v in (VIN_A, VIN_B, VIN_C, VIN_D))
BERLIN = {"lat": 52.52, "lon": 13.405}
POTSDAM = {"lat": 52.39, "lon": 13.06}
ROUTE = {"pickup_km": 1.5, "trip_km": 24.0, "distance_km": 25.5, "eta_min": 51}
SNAPSHOT_D = {"car_id": CAR_D, "status": "IN_MAINTENANCE", "version": 4, "model": "Robotaxi S", "year": 2022,
              "odometer_km": 12_000, "battery_pct": 18.0, "km_since_service": 11_000}
JOB = {"job_id": "maintenance-job-1", "car_id": CAR_D, "reason": "battery low", "ride_id": None}
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:fleet-dispatch-car:dispatch-ride-1-abc"

TEMPLATES: dict[str, Any] = {
    "ValidateCar": {"vin": VIN_C, "model": "Robotaxi S", "year": 2024, "seats": 4, "location": BERLIN,
                    "battery_pct": 80.0, "odometer_km": 100, "correlation_id": "req-1"},
    "InspectCar": {"car_id": CAR_C, "vin": VIN_C, "model": "Robotaxi S", "year": 2024, "seats": 4,
                   "location": BERLIN, "battery_pct": 80.0, "odometer_km": 100},
    "RecordCarEvent": {"version": "0", "id": "e-1", "detail-type": "CarStatusChanged", "source": "fleet.cars",
                       "detail": {"car_id": CAR_C, "status": "AVAILABLE", "previous_status": "REGISTERING",
                                  "version": 7, "at": AT, "execution_arn": EXECUTION, "reason": "registered"}},
    "ReleaseStranded": {"version": "0", "id": "e-2", "detail-type": "Step Functions Execution Status Change",
                        "source": "aws.states", "detail": {
                            "executionArn": EXECUTION,
                            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:fleet-dispatch-car",
                            "name": "dispatch-ride-1-abc", "status": "ABORTED", "error": "Stopped",
                            "cause": "an operator stopped it", "stopDate": 1767225600000,
                            "input": json.dumps({"ride_id": "ride-1", "pickup": BERLIN, "dropoff": POTSDAM,
                                                 "passengers": 2})}},
    "FindCandidates": {"ride_id": "ride-9", "pickup": BERLIN, "dropoff": POTSDAM, "passengers": 2},
    "PlanRoute": {"car_id": CAR_C, "start": BERLIN, "pickup": BERLIN, "dropoff": POTSDAM},
    "StartTrip": {"ride_id": "ride-1", "car_id": CAR_A, "version": 3, "route": ROUTE, "task_token": "token-1",
                  "at": AT, "execution_arn": EXECUTION},
    "CompleteTrip": {"ride_id": "ride-2", "car_id": CAR_B, "version": 5,
                     "before": {"odometer_km": 5000, "battery_pct": 90.0, "km_since_service": 100},
                     "route": ROUTE, "dropoff": POTSDAM, "report": {"odometer_km": 5030, "battery_pct": 80.0},
                     "at": AT, "execution_arn": EXECUTION},
    "MarkRideFailed": {"ride_id": "ride-2", "candidate": {"car_id": CAR_B, "version": 3}, "failed_state": "CompleteTrip",
                       "error": "States.TaskFailed", "at": AT, "execution_arn": EXECUTION},
    "EnterMaintenance": {"request": {"car_id": CAR_C, "reason": "brakes squeak"}, "job_id": "maintenance-job-2",
                         "at": AT, "execution_arn": EXECUTION},
    "Diagnose": {"job": JOB, "car": SNAPSHOT_D},
    "OrderParts": {"job": JOB, "checks": ["battery", "brakes", "tires"]},
    "BookTechnician": {"job": JOB, "car": SNAPSHOT_D},
    "RunCheck": {"job_id": JOB["job_id"], "car": SNAPSHOT_D, "check": "brakes"},
    "RequestSignOff": {"job_id": JOB["job_id"], "car_id": CAR_D,
                       "checks": [{"check": "brakes", "passed": True, "reading": "pad wear 30%"}],
                       "parts": {"order_id": "po-1", "parts": ["brake pad set"]},
                       "technician": {"technician": "Ada Okafor", "slot": "bay-1"}, "task_token": "token-2", "at": AT},
    "RoadTest": {"job_id": JOB["job_id"], "car": SNAPSHOT_D},
    "ReturnToService": {"job_id": JOB["job_id"], "car_id": CAR_D, "version": 4,
                        "sign_off": {"passed": True, "notes": "ok"}, "road_test": {"passed": True, "findings": []},
                        "at": AT, "execution_arn": EXECUTION},
    "RetireCar": {"job_id": JOB["job_id"], "car_id": CAR_D, "version": 4,
                  "retirement": {"reason": "worn out", "findings": ["odometer"]},
                  "sign_off": {"passed": False, "notes": "frame cracked"}, "at": AT, "execution_arn": EXECUTION},
    "MarkMaintenanceFailed": {"job_id": JOB["job_id"], "car_id": CAR_D, "version": 4, "failed_state": "RoadTest",
                              "error": "States.TaskFailed", "at": AT, "execution_arn": EXECUTION},
}

#: Valid inputs of each workflow, as a client starts them.
WORKFLOW_INPUTS: dict[str, Any] = {
    "register": {"vin": VIN_C, "model": "Robotaxi S", "year": 2024, "seats": 4, "location": BERLIN,
                 "battery_pct": 80.0, "odometer_km": 100},
    "dispatch": {"ride_id": "ride-9", "pickup": BERLIN, "dropoff": POTSDAM, "passengers": 2},
    "maintenance": {"car_id": CAR_C, "reason": "brakes squeak"},
}


def _car(car_id: str, vin: str, status: str, version: int, **extra: Any) -> dict[str, Any]:
    return {"car_id": car_id, "vin": vin, "model": "Robotaxi S", "year": 2022, "seats": 4, "location": BERLIN,
            "battery_pct": 90.0, "odometer_km": 5000, "km_since_service": 100, "status": status, "version": version,
            "created_at": AT, "updated_at": AT, **extra}


def _ride(ride_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"ride_id": ride_id, "status": status, "pickup": BERLIN, "dropoff": POTSDAM, "passengers": 2,
            "requested_at": AT, "updated_at": AT, "dispatched_by": EXECUTION, **extra}


#: The tables every hostile Lambda test starts from: each write template above finds the items
#: its conditions expect (so a mutation that keeps the event valid really writes).
SEED: dict[str, list[dict[str, Any]]] = {
    "Cars": [
        _car(CAR_A, VIN_A, "RESERVED", 3, ride_id="ride-1"),
        _car(CAR_B, VIN_B, "ON_TRIP", 5, ride_id="ride-2"),
        _car(CAR_C, VIN_C, "AVAILABLE", 2),
        _car(CAR_D, VIN_D, "IN_MAINTENANCE", 4, job_id=JOB["job_id"], battery_pct=18.0, km_since_service=11_000,
             odometer_km=12_000),
    ],
    "Rides": [
        _ride("ride-1", "REQUESTED"),
        _ride("ride-2", "ON_TRIP", car_id=CAR_B, route=ROUTE, task_token="token-0", started_at=AT),
    ],
    "MaintenanceJobs": [
        {"job_id": JOB["job_id"], "car_id": CAR_D, "reason": "battery low", "status": "OPEN", "opened_at": AT,
         "updated_at": AT, "execution_arn": EXECUTION, "car_version": 4},
    ],
    "CarHistory": [],
    "Idempotency": [],
}


# --- the answers -------------------------------------------------------------------------------

#: What an error body may never contain: a stack trace, a file path, a Python exception's repr.
INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|site-packages|/work/|/usr/lib|/home/|\\\\site-packages|"
    r"\b[A-Z]\w*(Error|Exception)\(|<class '|<module|object at 0x|NoneType",
)


def internals_in(text: str) -> list[str]:
    return [m.group(0) for m in INTERNALS.finditer(text)]


def domain_error_names() -> set[str]:
    """Every domain error class name (fleet_domain's FleetError and its subclasses)."""
    from fleet_domain.models import errors

    names, todo = set(), [errors.FleetError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


#: Errors a handler may raise for input it refuses: a domain error, or the validation error of the
#: event's model (pydantic names the model and the fields at fault).
VALIDATION_ERROR = "ValidationError"


# --- executions ----------------------------------------------------------------------------------

#: The named outcomes an execution may succeed with, per the ASL files' Pass states.
DOMAIN_OUTCOMES = {"CarRegistered", "CarFailedInspection", "CarAlreadyRegistered", "NoCarAvailable",
                   "RideAlreadyRequested", "TripCompleted", "BackInService", "CarRetired", "MaintenanceRefused"}
#: User errors an execution fails with: the caller's input was wrong; nothing goes to the DLQ.
USER_ERRORS = {"CarValidationError", "RideValidationError", "MaintenanceRequestError", "CarNotFoundError"}
#: Step Functions' own terminal error for state data over 256 KB (States.ALL does not catch it).
DATA_LIMIT = "States.DataLimitExceeded"
#: The states where a healthy execution waits (for the car's trip, for the technician).
WAITING_STATES = {"StartTrip", "RequestSignOff"}


#: Step Functions' error when a state cannot apply its paths to the data: what an execution whose
#: input is not a JSON object ends in (the first Task's Catch cannot add `$.error` to a list).
RUNTIME = "States.Runtime"


def settle(cloud: Any, execution_arn: str, timeout_s: float = 20.0, input_is_object: bool = True) -> str:
    """Follow an execution to its end (or to a task-token wait) and check how it got there: a
    named domain outcome, a user error, an operational failure that is in the DLQ exactly once,
    or Step Functions' data limit (or States.Runtime, for input that is not a JSON object).
    Returns a one-word description for the caller's statistics."""
    from fleet_domain.control.dlq import DeadLetterQueue
    from fleet_domain.data.failures import FailureRepository, failure_id
    from workflows.definitions import catalog
    from workflows.definitions.catalog import Ref
    from workflows.local import adapter
    from workflows.local.cloud import resolve
    from workflows.targets import stepfunctions

    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while True:
        result = stepfunctions.describe(sfn, execution_arn)
        if result.status != "RUNNING":
            break
        if result.states and result.states[-1] in WAITING_STATES:
            return "waiting"  # for the car's trip or the technician: healthy, not hung
        assert time.monotonic() < deadline, f"{execution_arn} hangs in {result.states[-1:]} (states {result.states})"
        adapter.wait_for_execution_end(execution_arn, 0.05)
    if result.status == "SUCCEEDED":
        assert isinstance(result.output, dict) and result.output.get("outcome") in DOMAIN_OUTCOMES, result.output
        return str(result.output["outcome"])
    assert result.status == "FAILED", (result.status, result.error, result.cause)
    assert result.error, f"{execution_arn} failed without a named error"
    failures = FailureRepository(cloud.client("dynamodb"), catalog.table("Failures").table_name)
    recorded = failures.get(failure_id(execution_arn))
    if recorded is None and result.error not in USER_ERRORS:
        # RecordFailure itself failed (a name AWS would refuse, a lone surrogate, breaks its hash):
        # the message was sent all the same, and the sweep records it.
        DeadLetterQueue(cloud.client("sqs"), resolve(Ref("queue", "Dlq", "url")), failures).sweep()
        recorded = failures.get(failure_id(execution_arn))
    if result.error in USER_ERRORS or result.error == DATA_LIMIT or (result.error == RUNTIME and not input_is_object):
        assert recorded is None, f"user error {result.error} went to the DLQ"
        return result.error
    assert recorded is not None, \
        f"operational failure {result.error} of {execution_arn}: not recorded for the DLQ"
    return "dlq"
