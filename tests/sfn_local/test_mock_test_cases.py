"""Every test case of statemachines/MockConfigFile.json, run through the `stateMachineArn#TestCase`
convention on the local cloud and, when SFN_LOCAL_ENDPOINT is set, on AWS Step Functions Local.

Both runtimes read the same file and must agree: the path taken (states visited, from
GetExecutionHistory, with each state's failed attempts) and the result (status and output, or
error and cause). On the local cloud the side effects are checked too: a fully mocked test case
touches no table and no queue; a hybrid one (some Task states left to their real service) does.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.sfn_local.conftest import SFN_LOCAL_SKIP
from workflows.definitions import catalog, permissions
from workflows.definitions.mock_config import MockConfig
from workflows.targets import stepfunctions

CONFIG = MockConfig.load()  # statemachines/MockConfigFile.json (or $SFN_MOCK_CONFIG, as for Step Functions Local)

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
       "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88}
CAR_ID = "car-1HGCM82633A004352"
REGISTERED = ["ValidateCar", "PersistCar", "InspectCar", "InspectionPassed", "ActivateCar", "PublishCarRegistered",
              "CarRegistered"]


@dataclass(frozen=True)
class Expected:
    """What a test case must do, wherever it runs."""

    input: dict[str, Any]
    status: str
    states: list[str]
    output: Any = None  # SUCCEEDED: the whole output
    error: str | None = None  # otherwise
    cause_starts: str = ""
    failed_attempts: dict[str, list[str]] = field(default_factory=dict)  # state -> the error of each failed attempt
    hybrid: bool = False  # leaves Task states on the path to their real services


EXPECTED: dict[tuple[str, str], Expected] = {
    ("register", "HappyPath"): Expected(
        CAR, "SUCCEEDED", REGISTERED,
        output={"outcome": "CarRegistered", "car_id": CAR_ID, "status": "AVAILABLE", "version": 2}),
    ("register", "RetryPath"): Expected(
        CAR, "SUCCEEDED", REGISTERED,
        output={"outcome": "CarRegistered", "car_id": CAR_ID, "status": "AVAILABLE", "version": 2},
        failed_attempts={"InspectCar": ["TransientInspectionError"] * 2}),
    ("register", "CatchToDLQ"): Expected(
        CAR, "FAILED",
        ["ValidateCar", "PersistCar", "InspectCar", "InspectCarFailed", "RecordFailure", "SendToDLQ", "CarPersisted",
         "MarkRegistrationFailed", "PublishRegistrationFailed", "RegistrationFailed"],
        error="TransientInspectionError", cause_starts='{"errorType":"TransientInspectionError"',
        failed_attempts={"InspectCar": ["TransientInspectionError"] * 4}),
    ("register", "InvalidCar"): Expected(
        {**CAR, "vin": "TOOSHORT"}, "FAILED", ["ValidateCar", "ExplainInvalidCar", "InvalidCar"],
        error="CarValidationError", cause_starts="vin: must be 17 characters",
        failed_attempts={"ValidateCar": ["CarValidationError"]}),
    ("register", "AlreadyRegistered"): Expected(
        CAR, "SUCCEEDED", ["ValidateCar", "PersistCar", "ReRegisterFailedCar", "CarAlreadyRegistered"],
        output={"outcome": "CarAlreadyRegistered", "car_id": CAR_ID},
        failed_attempts={"PersistCar": ["DynamoDB.ConditionalCheckFailedException"],
                         "ReRegisterFailedCar": ["DynamoDB.ConditionalCheckFailedException"]}),
    # A car whose registration failed (version 3 after REGISTERING, REGISTRATION_FAILED) is registered
    # again, as a DLQ redrive does: its versions carry on.
    ("register", "ReRegisterFailedCar"): Expected(
        CAR, "SUCCEEDED", ["ValidateCar", "PersistCar", "ReRegisterFailedCar", *REGISTERED[2:]],
        output={"outcome": "CarRegistered", "car_id": CAR_ID, "status": "AVAILABLE", "version": 4},
        failed_attempts={"PersistCar": ["DynamoDB.ConditionalCheckFailedException"]}),
    ("register", "FailedInspection"): Expected(
        {**CAR, "battery_pct": 9}, "SUCCEEDED",
        ["ValidateCar", "PersistCar", "InspectCar", "InspectionPassed", "RejectCar", "PublishCarRejected",
         "CarFailedInspection"],
        output={"outcome": "CarFailedInspection", "car_id": CAR_ID, "status": "REGISTRATION_FAILED",
                "findings": ["battery below 15%"]}),
    # Step Functions Local has no EventBridge endpoint override: this case mocks only PutEvents, so
    # the Lambda functions and DynamoDB run for real (`fleet lambda-endpoint`, `fleet up`).
    ("register", "LocalServices"): Expected(
        CAR, "SUCCEEDED", REGISTERED,
        output={"outcome": "CarRegistered", "car_id": CAR_ID, "status": "AVAILABLE", "version": 2}, hybrid=True),
}

RIDE = {"ride_id": "r-1", "pickup": {"lat": 52.515, "lon": 13.4}, "dropoff": {"lat": 52.5, "lon": 13.35}, "passengers": 2}
TRIP = ["FindCandidates", "RecordRide", "CandidateLeft", "PickCandidate", "ReserveCar", "PublishCarReserved", "PlanRoute"]
TRIP_COMPLETED = {"outcome": "TripCompleted", "ride_id": "r-1", "car_id": "car-TESTCAR0000000001", "status": "COMPLETED",
                  "distance_km": 4.521, "odometer_km": 5, "battery_pct": 89.1, "maintenance": {"due": False, "reason": None}}
CHECK_FAILED = "DynamoDB.ConditionalCheckFailedException"

EXPECTED.update({
    ("dispatch", "HappyPath"): Expected(
        RIDE, "SUCCEEDED", [*TRIP, "StartTrip", "CompleteTrip", "MaintenanceDue", "TripCompleted"], output=TRIP_COMPLETED),
    ("dispatch", "RetryPath"): Expected(
        RIDE, "SUCCEEDED", [*TRIP, "StartTrip", "CompleteTrip", "MaintenanceDue", "TripCompleted"], output=TRIP_COMPLETED,
        failed_attempts={"PlanRoute": ["TransientRoutingError"] * 2}),
    ("dispatch", "CatchToDLQ"): Expected(
        RIDE, "FAILED", [*TRIP, "PlanRouteFailed", "RecordFailure", "SendToDLQ", "RideRecorded", "MarkRideFailed", "DispatchFailed"],
        error="TransientRoutingError", cause_starts='{"errorType":"TransientRoutingError"',
        failed_attempts={"PlanRoute": ["TransientRoutingError"] * 4}),
    ("dispatch", "InvalidRide"): Expected(
        {**RIDE, "passengers": 12}, "FAILED", ["FindCandidates", "ExplainInvalidRide", "InvalidRide"],
        error="RideValidationError", cause_starts="passengers:",
        failed_attempts={"FindCandidates": ["RideValidationError"]}),
    ("dispatch", "RideAlreadyRequested"): Expected(
        RIDE, "SUCCEEDED", ["FindCandidates", "RecordRide", "RideAlreadyRequested"],
        output={"outcome": "RideAlreadyRequested", "ride_id": "r-1"}, failed_attempts={"RecordRide": [CHECK_FAILED]}),
    ("dispatch", "NoCarAvailable"): Expected(
        RIDE, "SUCCEEDED", ["FindCandidates", "RecordRide", "CandidateLeft", "LookAgain", "RejectRide", "NoCarAvailable"],
        output={"outcome": "NoCarAvailable", "ride_id": "r-1", "status": "REJECTED", "candidates": 0}),
    # Both candidates are reserved by other rides first: ReserveCar's condition fails for each.
    ("dispatch", "CandidatesTaken"): Expected(
        RIDE, "SUCCEEDED",
        ["FindCandidates", "RecordRide", *["CandidateLeft", "PickCandidate", "ReserveCar", "CandidateTaken"] * 2,
         "CandidateLeft", "LookAgain", "FindMoreCandidates", "NextLook", "CandidateLeft", "LookAgain", "RejectRide",
         "NoCarAvailable"],
        output={"outcome": "NoCarAvailable", "ride_id": "r-1", "status": "REJECTED", "candidates": 0},
        failed_attempts={"ReserveCar": [CHECK_FAILED] * 2}),
    ("dispatch", "MaintenanceDue"): Expected(
        RIDE, "SUCCEEDED", [*TRIP, "StartTrip", "CompleteTrip", "MaintenanceDue", "StartMaintenance", "TripCompleted"],
        output={**TRIP_COMPLETED, "maintenance": {
            "due": True, "reason": "service interval reached",
            "execution": {"execution_arn": "arn:aws:states:us-east-1:123456789012:execution:fleet-maintain-car:"
                                          "maintenance-car-TESTCAR0000000001-r-1", "already_started": False}}}),
})

JOB = {"car_id": "car-TESTCAR0000000001", "reason": "scheduled service"}
JOB_ID = "maintenance-car-TESTCAR0000000001-a8330ea15f0c"
# Parallel branches and Map iterations interleave: check() compares nested states as a multiset.
WORKSHOP = ["EnterMaintenance", "EnteredMaintenance", "Diagnose", "PrepareRepair", "OrderParts", "BookTechnician",
            "RunChecks", "RunCheck", "RunCheck", "RunCheck", "RequestSignOff", "SignedOff"]
BACK_IN_SERVICE = {"outcome": "BackInService", "car_id": "car-TESTCAR0000000001", "job_id": JOB_ID,
                   "status": "AVAILABLE", "version": 7}
RETIRED = {"outcome": "CarRetired", "car_id": "car-TESTCAR0000000001", "job_id": JOB_ID, "status": "RETIRED",
           "version": 7}

EXPECTED.update({
    ("maintenance", "HappyPath"): Expected(
        JOB, "SUCCEEDED", [*WORKSHOP, "RoadTest", "RoadTestPassed", "ReturnToService", "BackInService"],
        output=BACK_IN_SERVICE),
    ("maintenance", "RetryPath"): Expected(
        JOB, "SUCCEEDED", [*WORKSHOP, "RoadTest", "RoadTestPassed", "ReturnToService", "BackInService"],
        output=BACK_IN_SERVICE, failed_attempts={"RoadTest": ["TransientRoadTestError"] * 2}),
    ("maintenance", "CatchToDLQ"): Expected(
        JOB, "FAILED",
        [*WORKSHOP, "RoadTest", "RoadTestFailed", "RecordFailure", "SendToDLQ", "CarInMaintenance", "MarkMaintenanceFailed",
         "MaintenanceFailed"],
        error="TransientRoadTestError", cause_starts='{"errorType":"TransientRoadTestError"',
        failed_attempts={"RoadTest": ["TransientRoadTestError"] * 4}),
    ("maintenance", "MaintenanceRefused"): Expected(
        JOB, "SUCCEEDED", ["EnterMaintenance", "EnteredMaintenance", "MaintenanceRefused"],
        output={"outcome": "MaintenanceRefused", "car_id": "car-TESTCAR0000000001", "status": "ON_TRIP",
                "reason": "car is ON_TRIP, not AVAILABLE"}),
    ("maintenance", "InvalidRequest"): Expected(
        {**JOB, "car_id": "car-NOSUCHCAR"}, "FAILED", ["EnterMaintenance", "ExplainInvalidRequest", "InvalidRequest"],
        error="CarNotFoundError", cause_starts="car car-TESTCAR0000000001 is not in the fleet",
        failed_attempts={"EnterMaintenance": ["CarNotFoundError"]}),
    ("maintenance", "SignOffRefused"): Expected(
        JOB, "SUCCEEDED", [*WORKSHOP, "TechnicianRefusedSignOff", "RetireCar", "CarRetired"],
        output={**RETIRED, "reason": "sign-off failed"}),
    ("maintenance", "FailedRoadTest"): Expected(
        JOB, "SUCCEEDED", [*WORKSHOP, "RoadTest", "RoadTestPassed", "CarFailedRoadTest", "RetireCar", "CarRetired"],
        output={**RETIRED, "reason": "road test failed"}),
})

CASES = [(sm.workflow, case) for sm in catalog.STATE_MACHINES for case in CONFIG.test_cases(sm.name)]


def _id(case: tuple[str, str]) -> str:
    return "-".join(case)


# --- the file itself -------------------------------------------------------------------------------


def test_register_has_the_test_cases_that_matter():
    assert {"HappyPath", "RetryPath", "CatchToDLQ"} <= set(CONFIG.test_cases("fleet-register-car"))


def test_every_test_case_has_an_expected_outcome_and_every_expectation_a_test_case():
    assert sorted(EXPECTED) == sorted(CASES)


def test_test_cases_name_only_state_machines_of_the_catalog():
    assert set(CONFIG.state_machines) <= {sm.name for sm in catalog.STATE_MACHINES}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_mocked_state_is_a_task_state_of_its_workflow(case):
    sm = catalog.workflow(case[0])
    tasks = {use.path[-1] for use in permissions.analyze(sm.definition())}
    mocked = set(CONFIG.test_case(sm.name, case[1]).states)
    assert mocked <= tasks, f"not Task states of {sm.asl_file}: {sorted(mocked - tasks)}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_fully_mocked_case_mocks_every_task_state_it_visits(case):
    """So it needs no Lambda endpoint or service behind Step Functions Local: only the file."""
    expected = EXPECTED[case]
    sm = catalog.workflow(case[0])
    tasks = {use.path[-1] for use in permissions.analyze(sm.definition())}
    unmocked = [s for s in expected.states if s in tasks and s not in CONFIG.test_case(sm.name, case[1]).states]
    assert bool(unmocked) == expected.hybrid, unmocked


def test_every_mocked_response_is_used():
    used = {r for cases in CONFIG.state_machines.values() for states in cases.values() for r in states.values()}
    assert sorted(set(CONFIG.responses) - used) == []


# --- running them ----------------------------------------------------------------------------------


def run(sfn: Any, state_machine_arn: str, test_case: str, payload: dict) -> stepfunctions.ExecutionResult:
    name = f"{test_case}-{uuid.uuid4().hex[:12]}"
    started = sfn.start_execution(stateMachineArn=f"{state_machine_arn}#{test_case}", name=name,
                                  input=json.dumps(payload))
    arn = started["executionArn"]
    assert arn == state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    return stepfunctions.describe(sfn, arn, stepfunctions.wait_for_execution(sfn, arn, timeout_s=60))


def check(result: stepfunctions.ExecutionResult, expected: Expected, workflow: str) -> None:
    top = set(json.loads(catalog.workflow(workflow).definition())["States"])
    assert [s for s in result.states if s in top] == [s for s in expected.states if s in top]
    assert Counter(s for s in result.states if s not in top) == Counter(s for s in expected.states if s not in top)
    assert result.status == expected.status, (result.error, result.cause)
    if expected.status == "SUCCEEDED":
        assert result.output == expected.output
    else:
        assert result.error == expected.error
        assert (result.cause or "").startswith(expected.cause_starts), result.cause
    failed: dict[str, list[str]] = {}
    for visit in result.visits:  # a state visited more than once (a loop, Map iterations) adds up
        failed.setdefault(visit.name, []).extend(visit.errors)
    assert {k: sorted(v) for k, v in failed.items() if v} == {k: sorted(v) for k, v in expected.failed_attempts.items()}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_on_the_local_cloud(shared_fleet, case):
    fleet, expected = shared_fleet, EXPECTED[case]
    result = run(fleet.sfn, fleet.cloud.state_machine_arn(case[0]), case[1], expected.input)

    check(result, expected, case[0])
    if not expected.hybrid:
        # Mocked service integrations call no service: nothing was written, nothing was queued.
        assert fleet.items("Cars") == []
        assert fleet.dlq() == []
        return
    # The states left unmocked ran for real: the car is in DynamoDB as the output says.
    car = fleet.item("Cars", car_id=result.output["car_id"])
    assert (car["status"], car["version"], car["registered_by"]) == (
        result.output["status"], result.output["version"], result.execution_arn)
    inspect = next(v for v in result.visits if v.name == "InspectCar")
    output = json.loads(inspect.output) if isinstance(inspect.output, str) else inspect.output
    assert output["inspection"] == {"passed": True, "findings": []}  # the real handler's answer
    fleet.ddb.delete_item(TableName=catalog.table("Cars").table_name, Key={"car_id": {"S": car["car_id"]}})


def test_an_unknown_test_case_is_refused_at_start(shared_fleet):
    sfn, arn = shared_fleet.sfn, shared_fleet.cloud.state_machine_arn("register")
    with pytest.raises(sfn.exceptions.ClientError) as raised:
        sfn.start_execution(stateMachineArn=f"{arn}#NoSuchCase", name="x", input="{}")
    assert raised.value.response["Error"]["Code"] == "InvalidName"
    assert "HappyPath" in raised.value.response["Error"]["Message"]  # names the ones it knows


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_on_step_functions_local(sfn_local, case):
    expected = EXPECTED[case]
    if expected.hybrid:
        pytest.skip("a hybrid test case needs Step Functions Local's LAMBDA_ENDPOINT on `fleet lambda-endpoint` "
                    "and DYNAMODB_ENDPOINT/SQS_ENDPOINT on `fleet up`; run it with "
                    "`fleet run ... --target sfn-local --test-case` (the README section Testing with Step Functions Local)")
    sm = catalog.workflow(case[0])
    check(run(sfn_local, stepfunctions.state_machine_arn(sfn_local, sm), case[1], expected.input), expected, case[0])


def test_step_functions_local_is_skipped_only_for_want_of_an_endpoint():
    """The skip reason says what to do; this documents it where the tests are read."""
    assert "SFN_LOCAL_ENDPOINT" in SFN_LOCAL_SKIP and "SFN_MOCK_CONFIG" in SFN_LOCAL_SKIP
