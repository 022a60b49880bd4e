"""The maintenance workflow, every path, on the real engine with the real handlers.

Each test asserts four things: final status and output, the states visited (from
GetExecutionHistory), the DynamoDB items, and the DLQ content. The invariants over the whole
tables are checked after each test (tests/workflows/conftest.py). The technician signs off the
way the CLI and the API do: fleet_domain.control.resume.sign_off.
"""

from __future__ import annotations

import json

import pytest

from fleet_domain.control import resume
from workflows.local.faults import FaultRule
from workflows.targets import stepfunctions

from .fleet_steps import JOBS, car_request, complete, register, ride, sign_off, wait_for_job, wait_until_waiting
from .invariants import drained_history

CHECKS = ["brakes", "tires", "sensors"]
BEFORE_SIGN_OFF = ["EnterMaintenance", "EnteredMaintenance", "Diagnose", "PrepareRepair", "OrderParts",
                   "BookTechnician", "RunChecks", *["RunCheck"] * len(CHECKS), "RequestSignOff"]
FAILED = ["RecordFailure", "SendToDLQ", "CarInMaintenance", "MarkMaintenanceFailed", "MaintenanceFailed"]


def request(car: str, reason: str = "scheduled service") -> dict:
    return {"car_id": car, "reason": reason}


def finish(fleet, arn):
    return stepfunctions.describe(fleet.sfn, arn, fleet.cloud.wait(arn))


def statuses(fleet, car):
    return [(h["version"], h["status"]) for h in drained_history(fleet).get(car, [])]


def test_maintenance_signed_off_puts_the_car_back_in_service(fleet):
    [car] = register(fleet, car_request(1, battery_pct=60, odometer_km=12_000))
    arn = fleet.start("maintenance", request(car))
    job_id = wait_for_job(fleet, car)

    job = fleet.item("MaintenanceJobs", job_id=job_id)
    assert job_id == arn.rsplit(":", 1)[-1]  # the job is named after its execution
    assert (job["status"], job["car_id"], job["reason"]) == ("AWAITING_SIGN_OFF", car, "scheduled service")
    assert [c["check"] for c in job["checks"]] == CHECKS and job["task_token"]
    assert job["parts"]["parts"] and job["technician"]["technician"]
    assert fleet.item("Cars", car_id=car)["status"] == "IN_MAINTENANCE"

    sign_off(fleet, job_id, passed=True, notes="pads replaced")
    result = finish(fleet, arn)

    assert result.status == "SUCCEEDED"
    assert result.output == {"outcome": "BackInService", "car_id": car, "job_id": job_id, "status": "AVAILABLE",
                             "version": 4}
    assert sorted(result.states) == sorted(BEFORE_SIGN_OFF + ["SignedOff", "RoadTest", "RoadTestPassed",
                                                              "ReturnToService", "BackInService"])
    assert result.states[:4] == ["EnterMaintenance", "EnteredMaintenance", "Diagnose", "PrepareRepair"]
    assert result.states[-6:] == ["RequestSignOff", "SignedOff", "RoadTest", "RoadTestPassed", "ReturnToService",
                                  "BackInService"]
    assert next(v for v in result.visits if v.name == "RequestSignOff").waited_for_token
    car_item = fleet.item("Cars", car_id=car)
    assert (car_item["status"], car_item["version"], car_item["battery_pct"], car_item["km_since_service"]) == \
        ("AVAILABLE", 4, 100, 0)
    assert car_item["last_job_id"] == job_id and "job_id" not in car_item
    job = fleet.item("MaintenanceJobs", job_id=job_id)
    assert job["status"] == "COMPLETED" and "task_token" not in job
    assert job["sign_off"]["passed"] is True and job["sign_off"]["notes"] == "pads replaced"
    assert job["road_test"] == {"passed": True, "findings": []} and job["closed_car_version"] == 4
    assert statuses(fleet, car) == [(1, "REGISTERING"), (2, "AVAILABLE"), (3, "IN_MAINTENANCE"), (4, "AVAILABLE")]
    assert fleet.dlq() == []


def test_a_low_battery_adds_the_battery_check(fleet):
    [car] = register(fleet, car_request(1, battery_pct=18))
    arn = fleet.start("maintenance", request(car, "charge"))
    job_id = wait_for_job(fleet, car)
    checks = fleet.item("MaintenanceJobs", job_id=job_id)["checks"]
    assert [c["check"] for c in checks] == ["battery"] + CHECKS
    assert checks[0] == {"check": "battery", "passed": False, "reading": "charge 18%"}
    sign_off(fleet, job_id, passed=True)
    assert finish(fleet, arn).output["outcome"] == "BackInService"


def test_maintenance_is_refused_while_the_car_is_on_a_trip(fleet):
    [car] = register(fleet, car_request(1))
    trip = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    before = fleet.item("Cars", car_id=car)

    result = fleet.run("maintenance", request(car))

    assert result.status == "SUCCEEDED"
    assert result.output == {"outcome": "MaintenanceRefused", "car_id": car, "status": "ON_TRIP",
                             "reason": "car is ON_TRIP, not AVAILABLE"}
    assert result.states == ["EnterMaintenance", "EnteredMaintenance", "MaintenanceRefused"]
    assert fleet.item("Cars", car_id=car) == before
    assert fleet.items("MaintenanceJobs") == []
    assert fleet.dlq() == []
    complete(fleet, "r-1")
    assert finish(fleet, trip).output["outcome"] == "TripCompleted"


@pytest.mark.parametrize("payload, error, cause", [
    ({"car_id": "car-NOSUCHCAR00000000", "reason": "x"}, "CarNotFoundError",
     "car_id: no car car-NOSUCHCAR00000000 in the fleet"),
    ({"car_id": "car-X"}, "MaintenanceRequestError", "reason: is required"),
    ({"car_id": "car-X", "reason": "x", "urgent": True}, "MaintenanceRequestError",
     "urgent: is not a field of a maintenance request"),
])
def test_an_invalid_request_is_a_user_error_with_no_dlq_message(fleet, payload, error, cause):
    result = fleet.run("maintenance", payload)
    assert (result.status, result.error, result.cause) == ("FAILED", error, cause)
    assert result.states == ["EnterMaintenance", "ExplainInvalidRequest", "InvalidRequest"]
    assert fleet.items("MaintenanceJobs") == []
    assert fleet.dlq() == []


def test_a_failing_check_is_retried_in_the_map(faulty_fleet):
    fleet = faulty_fleet({"RunCheck": [FaultRule(error="TransientCheckError", message="rig offline", first=2,
                                                 match={"check": "brakes"})]})
    [car] = register(fleet, car_request(1))
    arn = fleet.start("maintenance", request(car))
    job_id = wait_for_job(fleet, car)
    sign_off(fleet, job_id, passed=True)
    result = finish(fleet, arn)

    assert result.output["outcome"] == "BackInService"
    checks = [v for v in result.visits if v.name == "RunCheck"]
    assert sorted(v.attempts for v in checks) == [1, 1, 3]
    assert [v.errors for v in checks if v.errors] == [["TransientCheckError", "TransientCheckError"]]
    assert [c["check"] for c in fleet.item("MaintenanceJobs", job_id=job_id)["checks"]] == CHECKS
    assert fleet.dlq() == []


def test_a_check_that_keeps_failing_takes_the_car_out_of_service(faulty_fleet):
    fleet = faulty_fleet({"RunCheck": [FaultRule(error="TransientCheckError", message="rig offline",
                                                 match={"check": "tires"})]})
    [car] = register(fleet, car_request(1))
    result = fleet.run("maintenance", request(car))

    assert (result.status, result.error) == ("FAILED", "TransientCheckError")
    assert sorted(result.states[:7]) == sorted(BEFORE_SIGN_OFF[:7])  # the Parallel's branches interleave
    assert result.states[-6:] == ["RunChecksFailed"] + FAILED
    car_item = fleet.item("Cars", car_id=car)
    assert (car_item["status"], car_item["version"]) == ("OUT_OF_SERVICE", 4) and "job_id" not in car_item
    [job] = fleet.items("MaintenanceJobs")
    assert job["status"] == "FAILED" and job["reason_closed"] == "RunChecks: TransientCheckError"
    [message] = fleet.dlq()
    assert (message["workflow"], message["failed_state"], message["error"]) == \
        ("maintenance", "RunChecks", "TransientCheckError")
    assert json.loads(message["cause"])["errorMessage"] == "rig offline"
    assert message["input"] == request(car)
    assert statuses(fleet, car)[-2:] == [(3, "IN_MAINTENANCE"), (4, "OUT_OF_SERVICE")]


def test_a_parts_order_that_fails_takes_the_car_out_of_service(faulty_fleet):
    fleet = faulty_fleet({"OrderParts": [FaultRule(throttle=True)]})
    [car] = register(fleet, car_request(1))
    result = fleet.run("maintenance", request(car))
    assert (result.status, result.error) == ("FAILED", "Lambda.TooManyRequestsException")
    assert result.states[-6:] == ["PrepareRepairFailed"] + FAILED
    assert fleet.item("Cars", car_id=car)["status"] == "OUT_OF_SERVICE"
    [message] = fleet.dlq()
    assert message["failed_state"] == "PrepareRepair"


def test_a_failed_sign_off_retires_the_car(fleet):
    [car] = register(fleet, car_request(1))
    arn = fleet.start("maintenance", request(car))
    job_id = wait_for_job(fleet, car)
    sign_off(fleet, job_id, passed=False, notes="chassis cracked")
    result = finish(fleet, arn)

    assert result.status == "SUCCEEDED"
    assert result.output == {"outcome": "CarRetired", "car_id": car, "job_id": job_id, "status": "RETIRED",
                             "version": 4, "reason": "sign-off failed"}
    assert result.states[-4:] == ["SignedOff", "TechnicianRefusedSignOff", "RetireCar", "CarRetired"]
    assert "RoadTest" not in result.states
    car_item = fleet.item("Cars", car_id=car)
    assert (car_item["status"], car_item["version"]) == ("RETIRED", 4)
    job = fleet.item("MaintenanceJobs", job_id=job_id)
    assert job["status"] == "RETIRED" and job["reason_closed"] == "sign-off failed: chassis cracked"
    assert statuses(fleet, car)[-2:] == [(3, "IN_MAINTENANCE"), (4, "RETIRED")]
    assert fleet.dlq() == []


def test_a_failed_road_test_retires_the_car(fleet):
    [car] = register(fleet, car_request(1, odometer_km=450_000))
    arn = fleet.start("maintenance", request(car))
    sign_off(fleet, wait_for_job(fleet, car), passed=True)
    result = finish(fleet, arn)

    assert result.output["outcome"] == "CarRetired" and result.output["reason"] == "road test failed"
    assert result.states[-5:] == ["RoadTest", "RoadTestPassed", "CarFailedRoadTest", "RetireCar", "CarRetired"]
    assert fleet.item("Cars", car_id=car)["status"] == "RETIRED"
    [job] = fleet.items("MaintenanceJobs")
    assert job["status"] == "RETIRED" and "past the fleet's service life" in job["reason_closed"]
    assert fleet.dlq() == []


def test_an_interrupted_road_test_is_retried(faulty_fleet):
    fleet = faulty_fleet({"RoadTest": [FaultRule(error="TransientRoadTestError", first=1)]})
    [car] = register(fleet, car_request(1))
    arn = fleet.start("maintenance", request(car))
    sign_off(fleet, wait_for_job(fleet, car), passed=True)
    result = finish(fleet, arn)
    assert result.output["outcome"] == "BackInService"
    assert next(v for v in result.visits if v.name == "RoadTest").errors == ["TransientRoadTestError"]


def test_no_sign_off_within_three_days_takes_the_car_out_of_service(fleet):
    [car] = register(fleet, car_request(1))
    arn = fleet.start("maintenance", request(car))
    job_id = wait_for_job(fleet, car)
    fleet.cloud.clock.advance(3 * 86400 + 1)
    result = finish(fleet, arn)

    assert (result.status, result.error) == ("FAILED", "SignOffTimedOut")
    assert result.states[-8:] == ["RequestSignOff", "SignOffTimedOut", "RequestSignOffFailed"] + FAILED
    assert fleet.item("Cars", car_id=car)["status"] == "OUT_OF_SERVICE"
    job = fleet.item("MaintenanceJobs", job_id=job_id)
    assert job["status"] == "FAILED" and "task_token" not in job
    [message] = fleet.dlq()
    assert (message["failed_state"], message["error"]) == ("RequestSignOff", "SignOffTimedOut")
    with pytest.raises(resume.NotWaiting, match=f"job {job_id} is FAILED"):
        sign_off(fleet, job_id, passed=True)


@pytest.mark.parametrize("function", ["EnterMaintenance", "ReturnToService"])
def test_a_step_that_timed_out_after_writing_is_retried_idempotently(faulty_fleet, function):
    fleet = faulty_fleet({function: [FaultRule(timeout=True, first=1)]})
    [car] = register(fleet, car_request(1))
    arn = fleet.start("maintenance", request(car))
    sign_off(fleet, wait_for_job(fleet, car), passed=True)
    result = finish(fleet, arn)

    assert result.output["outcome"] == "BackInService" and result.output["version"] == 4
    assert next(v for v in result.visits if v.name == function).errors == ["Sandbox.Timedout"]
    assert [s for _, s in statuses(fleet, car)] == ["REGISTERING", "AVAILABLE", "IN_MAINTENANCE", "AVAILABLE"]
    assert len(fleet.items("MaintenanceJobs")) == 1
    assert fleet.dlq() == []


def test_signing_off_a_job_that_is_not_waiting_is_refused(fleet):
    [car] = register(fleet, car_request(1))
    with pytest.raises(resume.NotWaiting, match="^no maintenance job job-404$"):
        sign_off(fleet, "job-404", passed=True)

    arn = fleet.start("maintenance", request(car))
    job_id = wait_for_job(fleet, car)
    sign_off(fleet, job_id, passed=True)
    with pytest.raises(resume.NotWaiting, match=f"job {job_id} is (SIGNED_OFF|COMPLETED), not waiting"):
        sign_off(fleet, job_id, passed=False)  # a second answer
    finish(fleet, arn)
    with pytest.raises(resume.NotWaiting, match=f"job {job_id} is COMPLETED, not waiting"):
        resume.sign_off(fleet.sfn, fleet.ddb, job_id, True, jobs_table=JOBS)
    assert fleet.item("Cars", car_id=car)["status"] == "AVAILABLE"
