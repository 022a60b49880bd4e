"""Every Lambda step is safe to retry: Step Functions runs a Task again after a timeout or an
error (the states' Retry), and an attempt that timed out may have committed its writes before
its answer was lost. Each step's real handler (lambdas/<name>.py), against emulated DynamoDB and
EventBridge (moto), is

1. run twice with the same input: the same answer (or the same error), and the same stored state
   as after one run: items, versions, the car's history, the distinct events published (a second
   run may publish an event again, identical, which the history ignores);
2. run after a late commit: its first attempt's first write commits and its answer is lost (a
   botocore hook raises a read timeout once the write's response has arrived), so that attempt
   stops there, having published nothing; the retry answers as one clean run does and leaves
   the same state;
3. refused a genuine conflict: another ride or job holds the car; nothing of that other owner
   changes, run once or twice;
4. refused when another execution owns the ride (a redrive recorded it again, and may have
   reserved the same car for it): every ride write is conditional on the ride's `dispatched_by`,
   so a late or redriven step of the older execution changes nothing (RideOwnerConflict).

Which functions: every catalog function a workflow's Task state invokes
(`test_every_lambda_step_of_the_workflows_is_covered` checks the list against the ASL). The
pure steps (no AWS call) get the cheap test: twice, the same answer or the same error. Not steps:
FleetApi (API Gateway's proxy: a client's retry is the Idempotency-Key's, tests/api),
RecordCarEvent (EventBridge's consumer of CarStatusChanged: a redelivery is a no-op,
test_handlers.py; it builds the history here) and ReleaseStranded (the consumer of Step
Functions' execution status events, run here as the steps are because it writes rides too;
redelivery in tests/workflows/test_stranded.py).

EnterMaintenance reads a car before writing it; its stale-read late commit (the first attempt
commits after the retry read the car) is tested in test_enter_maintenance.py. MarkRideFailed and
ReleaseStranded read the car too, and write conditional on what they read; the ride keeps what
their write did to it (car_outcome), so a retry that reads the car after a late commit answers
from the ride. Every other writing step writes first, conditional on the state it leaves, and
reads only after a cancelled condition, so a late commit is always seen by that read.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from fleet_domain.data.base import item, plain
from fleet_domain.models.car import Location
from fleet_domain.models.errors import CarStateConflict, RideOwnerConflict
from fleet_domain.platform import clients
from fleet_domain.rules.geo import area_of, cell_of
from workflows.definitions import catalog

from .conftest import create_table

AT = "2026-12-02T16:00:00.000Z"
CAR = "car-1HGCM82633A004352"
RIDE = "r-retry-1"
DISPATCH = "arn:aws:states:us-east-1:123456789012:execution:fleet-dispatch-car:r-retry-1"
REDRIVE = "arn:aws:states:us-east-1:123456789012:execution:fleet-dispatch-car:dispatch-redrive-0123456789abcdef01234567"
DISPATCH_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:fleet-dispatch-car"
JOB = "maintenance-car-1-abc"
MAINTENANCE = f"arn:aws:states:us-east-1:123456789012:execution:fleet-maintain-car:{JOB}"
BERLIN = {"lat": 52.52, "lon": 13.405}
PICKUP = {"lat": 52.521, "lon": 13.41}
DROPOFF = {"lat": 52.5, "lon": 13.39}
ROUTE = {"pickup_km": 0.4, "trip_km": 2.7, "distance_km": 3.1, "eta_min": 8}
TABLES = ("Cars", "Rides", "MaintenanceJobs", "CarHistory")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


# --- the emulated cloud ------------------------------------------------------------------------


class World:
    """The fleet's tables and bus on moto, with every CarStatusChanged event the steps publish."""

    def __init__(self) -> None:
        self.ddb = clients.client("dynamodb")
        self.published: list[dict[str, Any]] = []

    def put(self, table: str, fields: dict[str, Any]) -> None:
        self.ddb.put_item(TableName=catalog.table(table).table_name, Item=item(fields))

    def rows(self, table: str) -> list[dict[str, Any]]:
        found = [plain(i) for i in self.ddb.scan(TableName=catalog.table(table).table_name)["Items"]]
        return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))

    def state(self) -> dict[str, Any]:
        """Every item of the fleet's tables, with the car history the published events make
        (delivered to RecordCarEvent as EventBridge delivers them), and the distinct events."""
        import record_car_event

        from .conftest import FakeLambdaContext

        for detail in self.published:
            record_car_event.handler({"id": "evt", "detail-type": "CarStatusChanged", "source": "fleet.cars",
                                      "detail": detail}, FakeLambdaContext())
        events = sorted({json.dumps(d, sort_keys=True) for d in self.published})
        return {**{t: self.rows(t) for t in TABLES}, "events": events}

    def car(self) -> dict[str, Any]:
        found = self.ddb.get_item(TableName=catalog.table("Cars").table_name, Key={"car_id": {"S": CAR}})
        return plain(found["Item"])


@contextmanager
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    import boto3
    from moto import mock_aws

    bus = catalog.FLEET_BUS.bus_name
    for table in TABLES:
        monkeypatch.setenv(f"{re.sub(r'(?<!^)(?=[A-Z])', '_', table).upper()}_TABLE", catalog.table(table).table_name)
    monkeypatch.setenv("FLEET_BUS_NAME", bus)
    monkeypatch.setenv("DISPATCH_CAR_STATE_MACHINE_ARN", DISPATCH_MACHINE)  # ReleaseStranded tells the workflow by it
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for table in TABLES:
            create_table(ddb, catalog.table(table))
        boto3.client("events", region_name="us-east-1").create_event_bus(Name=bus)
        w = World()

        def record(params: dict[str, Any], **_: Any) -> None:
            w.published += [json.loads(e["Detail"]) for e in params["Entries"]]

        events = clients.client("events").meta.events
        events.register("provide-client-params.events.PutEvents", record)
        try:
            yield w
        finally:
            events.unregister("provide-client-params.events.PutEvents", record)


@contextmanager
def answer_lost() -> Iterator[list[str]]:
    """The attempt's first DynamoDB write that commits has its answer lost: the write landed, the
    function sees a read timeout (as when Lambda or the network cut it off) and stops there."""
    lost: list[str] = []

    def lose(http_response: Any, model: Any, **_: Any) -> None:
        if not lost and model.name in WRITES and http_response.status_code == 200:
            lost.append(model.name)
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    events = clients.client("dynamodb").meta.events
    events.register("after-call.dynamodb", lose)
    try:
        yield lost
    finally:
        events.unregister("after-call.dynamodb", lose)


def run(step: str, event: dict[str, Any]) -> Any:
    """The step's handler, called as Lambda calls it (a copy of the event: the input is not the
    handler's to change, and a retry gets the same one)."""
    from .conftest import FakeLambdaContext

    module = importlib.import_module(catalog.function(step).handler.rsplit(".", 1)[0])
    return module.handler(copy.deepcopy(event), FakeLambdaContext())


# --- the items the steps find ------------------------------------------------------------------


def car(status: str, version: int, **holder: str) -> dict[str, Any]:
    return {"car_id": CAR, "vin": CAR[4:], "model": "Robotaxi S", "year": 2024, "seats": 4, "status": status,
            "location": BERLIN, "cell": cell_of(Location(**BERLIN)), "area": area_of(Location(**BERLIN)),
            "battery_pct": 88.5, "odometer_km": 1200, "km_since_service": 0, "version": version,
            "created_at": "2026-11-24T18:00:00.000Z", "updated_at": "2026-11-24T18:00:01.000Z",
            "registered_by": "arn:aws:states:x", **holder}


def ride(status: str, by: str = DISPATCH, **fields: Any) -> dict[str, Any]:
    return {"ride_id": RIDE, "status": status, "pickup": PICKUP, "dropoff": DROPOFF, "passengers": 2,
            "requested_at": "2026-12-02T15:50:00.000Z", "updated_at": "2026-12-02T15:50:00.000Z",
            "dispatched_by": by, **fields}


def job(status: str, **fields: Any) -> dict[str, Any]:
    return {"job_id": JOB, "car_id": CAR, "reason": "scheduled service", "status": status,
            "opened_at": "2026-12-02T15:00:00.000Z", "updated_at": "2026-12-02T15:00:00.000Z",
            "execution_arn": MAINTENANCE, "car_version": 3, **fields}


# The event of the dispatch that ended without its own clean-up (DISPATCH), as ReleaseStranded gets it.
ENDED = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
         "detail": {"executionArn": DISPATCH, "stateMachineArn": DISPATCH_MACHINE, "name": RIDE, "status": "ABORTED",
                    "error": "Stopped", "cause": "an operator stopped it", "stopDate": 1796227200000,
                    "input": json.dumps({"ride_id": RIDE, "pickup": PICKUP, "dropoff": DROPOFF, "passengers": 2})}}
ENDED_REASON = "execution ABORTED (Stopped: an operator stopped it) without its own clean-up"
ON_TRIP_RIDE = ride("ON_TRIP", car_id=CAR, route=ROUTE, started_at="2026-12-02T15:55:00.000Z")
SIGN_OFF = {"passed": True, "notes": "brakes replaced", "technician": "Ada Okafor",
            "signed_off_at": "2026-12-02T15:58:00.000Z"}
SIGNED_OFF_JOB = job("SIGNED_OFF", sign_off=SIGN_OFF)
CHECKS = [{"check": "brakes", "passed": True, "reading": "pad wear 3%"}]


@dataclass(frozen=True)
class Case:
    """One writing step in one situation: what it finds, its input, and its answer."""

    step: str
    seed: tuple[tuple[str, dict[str, Any]], ...]
    event: dict[str, Any]
    answer: Callable[[Any], bool]  # what a clean run answers
    effect: Callable[[World], bool] = field(default=lambda w: True)  # what a clean run leaves

    def plant(self, w: World) -> None:
        for table, fields in self.seed:
            w.put(table, fields)


def _car_is(status: str, version: int) -> Callable[[World], bool]:
    return lambda w: (w.car()["status"], w.car()["version"]) == (status, version)


CASES: dict[str, Case] = {
    "StartTrip": Case(
        "StartTrip", (("Cars", car("RESERVED", 3, ride_id=RIDE)), ("Rides", ride("REQUESTED"))),
        {"ride_id": RIDE, "car_id": CAR, "version": 3, "route": ROUTE, "task_token": "token-1", "at": AT,
         "execution_arn": DISPATCH},
        lambda out: out == {"ride_id": RIDE, "car_id": CAR, "version": 4}, _car_is("ON_TRIP", 4)),
    "CompleteTrip": Case(
        "CompleteTrip", (("Cars", car("ON_TRIP", 4, ride_id=RIDE)), ("Rides", ON_TRIP_RIDE)),
        {"ride_id": RIDE, "car_id": CAR, "version": 4,
         "before": {"odometer_km": 1200, "battery_pct": 88.5, "km_since_service": 0}, "route": ROUTE,
         "dropoff": DROPOFF, "report": {"odometer_km": 1204, "battery_pct": 84.0}, "at": AT,
         "execution_arn": DISPATCH},
        lambda out: (out["car"]["status"], out["car"]["version"], out["car"]["odometer_km"]) == ("AVAILABLE", 5, 1204),
        _car_is("AVAILABLE", 5)),
    "MarkRideFailed/on trip": Case(
        "MarkRideFailed", (("Cars", car("ON_TRIP", 4, ride_id=RIDE)), ("Rides", ON_TRIP_RIDE)),
        {"ride_id": RIDE, "candidate": {"car_id": CAR, "version": 2}, "failed_state": "StartTrip",
         "error": "States.HeartbeatTimeout", "at": AT, "execution_arn": DISPATCH},
        lambda out: out == {"ride_id": RIDE, "car_id": CAR, "car_status": "OUT_OF_SERVICE"},
        _car_is("OUT_OF_SERVICE", 5)),
    "MarkRideFailed/reserved": Case(
        "MarkRideFailed", (("Cars", car("RESERVED", 3, ride_id=RIDE)), ("Rides", ride("REQUESTED"))),
        {"ride_id": RIDE, "candidate": {"car_id": CAR, "version": 2}, "failed_state": "PlanRoute",
         "error": "TransientRoutingError", "at": AT, "execution_arn": DISPATCH},
        lambda out: out == {"ride_id": RIDE, "car_id": CAR, "car_status": "AVAILABLE"}, _car_is("AVAILABLE", 4)),
    "MarkRideFailed/no car": Case(
        "MarkRideFailed", (("Cars", car("AVAILABLE", 2)), ("Rides", ride("REQUESTED"))),
        {"ride_id": RIDE, "candidate": None, "failed_state": "PublishCarReserved", "error": "States.Runtime",
         "at": AT, "execution_arn": DISPATCH},
        lambda out: out == {"ride_id": RIDE, "car_id": None, "car_status": None}, _car_is("AVAILABLE", 2)),
    "EnterMaintenance": Case(
        "EnterMaintenance", (("Cars", car("AVAILABLE", 2)),),
        {"request": {"car_id": CAR, "reason": "scheduled service"}, "job_id": JOB, "at": AT,
         "execution_arn": MAINTENANCE},
        lambda out: out["entered"] is True and (out["car"]["status"], out["car"]["version"]) == ("IN_MAINTENANCE", 3),
        _car_is("IN_MAINTENANCE", 3)),
    "RequestSignOff": Case(
        "RequestSignOff", (("Cars", car("IN_MAINTENANCE", 3, job_id=JOB)), ("MaintenanceJobs", job("OPEN"))),
        {"job_id": JOB, "car_id": CAR, "checks": CHECKS, "parts": {"order_id": "po-1", "parts": ["brake pad set"]},
         "technician": {"technician": "Ada Okafor", "slot": "bay-2"}, "task_token": "token-1", "at": AT},
        lambda out: out == {"job_id": JOB, "status": "AWAITING_SIGN_OFF"}, _car_is("IN_MAINTENANCE", 3)),
    "ReturnToService": Case(
        "ReturnToService", (("Cars", car("IN_MAINTENANCE", 3, job_id=JOB)), ("MaintenanceJobs", SIGNED_OFF_JOB)),
        {"job_id": JOB, "car_id": CAR, "version": 3, "sign_off": SIGN_OFF, "road_test": {"passed": True, "findings": []},
         "at": AT, "execution_arn": MAINTENANCE},
        lambda out: out == {"car_id": CAR, "status": "AVAILABLE", "version": 4}, _car_is("AVAILABLE", 4)),
    "RetireCar": Case(
        "RetireCar", (("Cars", car("IN_MAINTENANCE", 3, job_id=JOB)), ("MaintenanceJobs", SIGNED_OFF_JOB)),
        {"job_id": JOB, "car_id": CAR, "version": 3, "sign_off": SIGN_OFF,
         "retirement": {"reason": "failed road test", "findings": ["odometer past the service life"]},
         "at": AT, "execution_arn": MAINTENANCE},
        lambda out: out == {"car_id": CAR, "status": "RETIRED", "version": 4}, _car_is("RETIRED", 4)),
    "ReleaseStranded": Case(
        "ReleaseStranded", (("Cars", car("ON_TRIP", 4, ride_id=RIDE)), ("Rides", ON_TRIP_RIDE)), ENDED,
        lambda out: (out["car_id"], out["car_status"], out["note"]) == (CAR, "AVAILABLE", ENDED_REASON),
        _car_is("AVAILABLE", 5)),
    "MarkMaintenanceFailed": Case(
        "MarkMaintenanceFailed", (("Cars", car("IN_MAINTENANCE", 3, job_id=JOB)),
                                  ("MaintenanceJobs", job("AWAITING_SIGN_OFF", task_token="token-1"))),
        {"job_id": JOB, "car_id": CAR, "version": 3, "failed_state": "RoadTest", "error": "TransientRoadTestError",
         "at": AT, "execution_arn": MAINTENANCE},
        lambda out: out == {"job_id": JOB, "car_id": CAR, "car_status": "OUT_OF_SERVICE"},
        _car_is("OUT_OF_SERVICE", 4)),
}

# The pure steps, with an input each as their workflow gives it.
_SNAPSHOT = {"car_id": CAR, "status": "IN_MAINTENANCE", "version": 3, "model": "Robotaxi S", "year": 2024,
             "odometer_km": 61_200, "battery_pct": 12.5, "km_since_service": 21_000}
_JOB_REF = {"job_id": JOB, "car_id": CAR, "reason": "battery low"}
PURE: dict[str, dict[str, Any]] = {
    "ValidateCar": {"vin": "1hgcm82633a004352", "model": "Robotaxi S", "year": 2024, "seats": 4, "battery_pct": 88,
                    "correlation_id": "req-42"},
    "InspectCar": {"car_id": CAR, "vin": CAR[4:], "model": "Robotaxi S", "year": 2024, "seats": 4, "location": BERLIN,
                   "battery_pct": 9.0, "odometer_km": 612_000},
    "PlanRoute": {"car_id": CAR, "start": BERLIN, "pickup": PICKUP, "dropoff": DROPOFF},
    "Diagnose": {"job": _JOB_REF, "car": _SNAPSHOT},
    "OrderParts": {"job": _JOB_REF, "checks": ["battery", "brakes", "tires", "sensors", "suspension"]},
    "BookTechnician": {"job": _JOB_REF, "car": _SNAPSHOT},
    "RunCheck": {"job_id": JOB, "car": _SNAPSHOT, "check": "battery"},
    "RoadTest": {"job_id": JOB, "car": _SNAPSHOT},
}
# The functions no workflow's Task state invokes (the module's docstring says which are run here).
NOT_STEPS = {"FleetApi", "RecordCarEvent", "ReleaseStranded"}


# --- which functions are steps -------------------------------------------------------------------


def lambda_steps() -> set[str]:
    """The catalog functions a Task state of some workflow invokes."""
    used: set[str] = set()
    for sm in catalog.STATE_MACHINES:
        used |= set(re.findall(r"\$\{(\w+)FunctionArn\}", sm.definition()))
    return used


def test_every_lambda_step_of_the_workflows_is_covered():
    steps = lambda_steps()
    covered = {c.step for c in CASES.values()} - NOT_STEPS | set(PURE) | {"FindCandidates"}
    assert steps == covered
    assert {f.logical_id for f in catalog.FUNCTIONS} == steps | NOT_STEPS and not steps & NOT_STEPS


# --- the pure steps ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", sorted(PURE))
def test_a_pure_step_run_twice_answers_the_same(step):
    first, second = run(step, PURE[step]), run(step, PURE[step])
    assert first == second and first  # an answer, the same one


@pytest.mark.parametrize(("step", "event", "error"), [
    ("ValidateCar", {**PURE["ValidateCar"], "seats": 0}, "CarValidationError"),
    ("FindCandidates", {"ride_id": RIDE, "pickup": PICKUP, "dropoff": DROPOFF, "passengers": 12}, "RideValidationError"),
    ("EnterMaintenance", {**CASES["EnterMaintenance"].event, "request": {"car_id": CAR}}, "MaintenanceRequestError"),
    ("PlanRoute", {**PURE["PlanRoute"], "pickup": {"lat": 91, "lon": 0}}, "ValidationError"),
])
def test_a_refused_input_is_refused_the_same_way_twice(step, event, error, monkeypatch):
    with world(monkeypatch) as w:
        before = w.state()
        messages = []
        for _ in range(2):
            with pytest.raises(Exception) as refused:
                run(step, event)
            assert type(refused.value).__name__ == error
            messages.append(str(refused.value))
        assert messages[0] == messages[1]
        assert w.state() == before


def test_find_candidates_run_twice_answers_the_same_and_writes_nothing(monkeypatch):
    request = {"ride_id": RIDE, "pickup": PICKUP, "dropoff": DROPOFF, "passengers": 2}
    with world(monkeypatch) as w:
        w.put("Cars", car("AVAILABLE", 2))
        before = w.state()
        first, second = run("FindCandidates", request), run("FindCandidates", request)
        assert first == second and [c["car_id"] for c in first["candidates"]] == [CAR]
        assert w.state() == before


# --- the writing steps -------------------------------------------------------------------------


def clean_run(case: Case, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any]]:
    """One run of the step, undisturbed: its answer and the state it leaves."""
    with world(monkeypatch) as w:
        case.plant(w)
        answer = run(case.step, case.event)
        assert case.answer(answer), answer
        assert case.effect(w)
        return answer, w.state()


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_twice_with_the_same_input_it_answers_the_same_and_changes_things_once(name, monkeypatch):
    case = CASES[name]
    with world(monkeypatch) as w:
        case.plant(w)
        first = run(case.step, case.event)
        once = w.state()
        second = run(case.step, case.event)
        assert case.answer(first) and second == first
        assert w.state() == once  # no version bumped twice, no second history row, no other event
        assert case.effect(w)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_retry_after_a_late_commit_answers_as_the_first_attempt(name, monkeypatch):
    case = CASES[name]
    expected_answer, expected_state = clean_run(case, monkeypatch)
    with world(monkeypatch) as w:
        case.plant(w)
        seeded = w.state()
        with answer_lost() as lost, pytest.raises(ReadTimeoutError):
            run(case.step, case.event)
        assert lost and w.state() != seeded  # the first attempt's write did land
        assert w.published == []  # and it stopped before publishing

        assert run(case.step, case.event) == expected_answer
        assert w.state() == expected_state


# --- genuine conflicts ---------------------------------------------------------------------------


OTHER_RIDE, OTHER_JOB = "r-someone-else", "maintenance-car-1-other"


@dataclass(frozen=True)
class Conflict:
    case: str
    seed: tuple[tuple[str, dict[str, Any]], ...]
    refused: str | None = None  # CarStateConflict's message, or None: an answer (below)
    answer: dict[str, Any] | None = None
    # What the step may still change: its own ride or job, when the car is not its to change.
    changes: tuple[str, ...] = ()


CONFLICTS: dict[str, Conflict] = {
    "StartTrip: the car is reserved for another ride": Conflict(
        "StartTrip", (("Cars", car("RESERVED", 3, ride_id=OTHER_RIDE)), ("Rides", ride("REQUESTED"))),
        refused=f"cannot start the trip of ride {RIDE}: expected car {CAR} RESERVED for it at version 3 and the ride "
                f"REQUESTED; found the car RESERVED v3 \\(ride_id {OTHER_RIDE}\\) and the ride REQUESTED"),
    "CompleteTrip: the car is on another ride's trip": Conflict(
        "CompleteTrip", (("Cars", car("ON_TRIP", 4, ride_id=OTHER_RIDE)), ("Rides", ON_TRIP_RIDE)),
        refused=f"cannot complete the trip of ride {RIDE}: expected car {CAR} ON_TRIP for it at version 4; found the "
                f"car ON_TRIP v4 \\(ride_id {OTHER_RIDE}\\) and the ride ON_TRIP"),
    "MarkRideFailed: the car is on another ride's trip": Conflict(
        "MarkRideFailed/on trip", (("Cars", car("ON_TRIP", 4, ride_id=OTHER_RIDE)), ("Rides", ON_TRIP_RIDE)),
        answer={"ride_id": RIDE, "car_id": None, "car_status": None}, changes=("Rides",)),
    "EnterMaintenance: the car is in maintenance for another job": Conflict(
        "EnterMaintenance", (("Cars", car("IN_MAINTENANCE", 3, job_id=OTHER_JOB)),),
        answer={"entered": False}),
    "RequestSignOff: the job was released": Conflict(
        "RequestSignOff", (("Cars", car("AVAILABLE", 4)), ("MaintenanceJobs", job("FAILED"))),
        refused=f"job {JOB} cannot await a sign-off: it is FAILED"),
    "ReturnToService: the car is in maintenance for another job": Conflict(
        "ReturnToService", (("Cars", car("IN_MAINTENANCE", 3, job_id=OTHER_JOB)), ("MaintenanceJobs", SIGNED_OFF_JOB)),
        refused=f"cannot close job {JOB}: expected car {CAR} IN_MAINTENANCE for it at version 3; found the car "
                f"IN_MAINTENANCE v3 \\(job_id {OTHER_JOB}\\) and the job SIGNED_OFF"),
    "RetireCar: the car is in maintenance for another job": Conflict(
        "RetireCar", (("Cars", car("IN_MAINTENANCE", 3, job_id=OTHER_JOB)), ("MaintenanceJobs", SIGNED_OFF_JOB)),
        refused=f"cannot close job {JOB}"),
    "MarkMaintenanceFailed: the car is in maintenance for another job": Conflict(
        "MarkMaintenanceFailed", (("Cars", car("IN_MAINTENANCE", 3, job_id=OTHER_JOB)),
                                  ("MaintenanceJobs", job("AWAITING_SIGN_OFF", task_token="token-1"))),
        answer={"job_id": JOB, "car_id": CAR, "car_status": None}, changes=("MaintenanceJobs",)),
}


@pytest.mark.parametrize("name", sorted(CONFLICTS))
def test_a_genuine_conflict_is_still_refused(name, monkeypatch):
    conflict = CONFLICTS[name]
    case = CASES[conflict.case]
    with world(monkeypatch) as w:
        for table, fields in conflict.seed:
            w.put(table, fields)
        before = w.state()
        answers = []
        for _ in range(2):
            if conflict.refused is not None:
                with pytest.raises(CarStateConflict, match=f"^{conflict.refused}"):
                    run(case.step, case.event)
            else:
                answers.append(run(case.step, case.event))
                assert conflict.answer is not None
                assert {k: answers[-1][k] for k in conflict.answer} == conflict.answer
        assert len(set(map(json.dumps, answers))) <= 1
        after = w.state()
        assert {t: after[t] for t in TABLES if t not in conflict.changes} == {
            t: before[t] for t in TABLES if t not in conflict.changes}  # the other owner's items untouched
        assert after["events"] == []  # no car changed, nothing published


# --- another execution owns the ride -------------------------------------------------------------

# A redrive of the ride (another execution, under another name) recorded it again and may have
# reserved the same car for it: the car's holder is the ride either way, so only the ride's
# `dispatched_by` tells the redrive's writes from a late or redriven step of the older execution.
TAKEN_OVER: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "StartTrip": (("Cars", car("RESERVED", 3, ride_id=RIDE)), ("Rides", ride("REQUESTED", by=REDRIVE))),
    "CompleteTrip": (("Cars", car("ON_TRIP", 4, ride_id=RIDE)), ("Rides", {**ON_TRIP_RIDE, "dispatched_by": REDRIVE})),
    "MarkRideFailed/on trip": (("Cars", car("ON_TRIP", 4, ride_id=RIDE)),
                               ("Rides", {**ON_TRIP_RIDE, "dispatched_by": REDRIVE})),
    # The redrive's reservation, at the very version the older execution's own would have had.
    "MarkRideFailed/reserved": (("Cars", car("RESERVED", 3, ride_id=RIDE)), ("Rides", ride("REQUESTED", by=REDRIVE))),
    "MarkRideFailed/no car": (("Cars", car("AVAILABLE", 2)), ("Rides", ride("REQUESTED", by=REDRIVE))),
}


@pytest.mark.parametrize("name", sorted(TAKEN_OVER))
def test_a_step_of_an_execution_that_no_longer_owns_the_ride_is_refused_and_changes_nothing(name, monkeypatch):
    case = CASES[name]
    with world(monkeypatch) as w:
        for table, fields in TAKEN_OVER[name]:
            w.put(table, fields)
        before = w.state()
        for _ in range(2):
            with pytest.raises(RideOwnerConflict, match=f"ride {RIDE}: it is dispatched by {REDRIVE}, not by {DISPATCH}$"):
                run(case.step, case.event)
        assert w.state() == before and w.published == []


def test_a_retry_after_a_late_commit_is_refused_once_a_redrive_owns_the_ride(monkeypatch):
    """MarkRideFailed's first attempt committed (the ride FAILED, its car released) and its answer
    was lost; before the retry, a redrive recorded the ride again and reserved the same car."""
    case = CASES["MarkRideFailed/reserved"]
    with world(monkeypatch) as w:
        case.plant(w)
        with answer_lost(), pytest.raises(ReadTimeoutError):
            run(case.step, case.event)
        assert w.car()["status"] == "AVAILABLE"
        w.put("Rides", ride("REQUESTED", by=REDRIVE))
        w.put("Cars", car("RESERVED", 5, ride_id=RIDE))
        redriven = w.state()
        with pytest.raises(RideOwnerConflict):
            run(case.step, case.event)
        assert w.state() == redriven


@contextmanager
def taken_over_before_the_write(w: World, redriven: dict[str, Any]) -> Iterator[None]:
    """A redrive records the ride (`redriven`) again between the step's read of it and its first write."""
    def take_over(**_: Any) -> None:
        if not done:
            done.append(True)
            w.put("Rides", redriven)

    done: list[bool] = []
    events = clients.client("dynamodb").meta.events
    for write in WRITES:
        events.register(f"before-call.dynamodb.{write}", take_over)
    try:
        yield
    finally:
        for write in WRITES:
            events.unregister(f"before-call.dynamodb.{write}", take_over)


@pytest.mark.parametrize("held", ["RESERVED", "ON_TRIP"])
def test_release_stranded_releases_nothing_of_a_ride_a_redrive_owns(held, monkeypatch):
    fields = ON_TRIP_RIDE if held == "ON_TRIP" else ride("REQUESTED")
    with world(monkeypatch) as w:
        redriven = {**fields, "dispatched_by": REDRIVE}
        w.put("Cars", car(held, 4, ride_id=RIDE))
        w.put("Rides", redriven)  # owned by the redrive when the event comes
        before = w.state()
        answer = run("ReleaseStranded", ENDED)
        assert (answer["car_id"], answer["note"]) == (None, "nothing held: the ride is not this execution's, "
                                                            "or it ended already")
        assert w.state() == before

        w.put("Rides", fields)  # owned by the ended execution when read, taken over before the write
        with taken_over_before_the_write(w, redriven):
            raced = run("ReleaseStranded", ENDED)
        assert raced == answer
        assert w.state() == before and w.published == []


def test_the_dispatch_gives_every_ride_writing_step_its_execution():
    states = json.loads(catalog.workflow("dispatch").definition())["States"]
    for name in ("StartTrip", "CompleteTrip", "MarkRideFailed"):
        assert states[name]["Parameters"]["Payload"]["execution_arn.$"] == "$$.Execution.Id", name
