"""The register workflow, every path, on the real engine with the real handlers.

Each test asserts four things: final status and output, the states visited (from
GetExecutionHistory), the DynamoDB item, and the DLQ content.
"""

from __future__ import annotations

import json
import time

import pytest

from workflows.local.faults import FaultRule, TableFaultRule

from .invariants import drained_history

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
       "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88}
CAR_ID = "car-1HGCM82633A004352"
HAPPY_PATH = ["ValidateCar", "PersistCar", "InspectCar", "InspectionPassed", "ActivateCar", "PublishCarRegistered",
              "CarRegistered"]


def test_registers_a_valid_car(fleet):
    result = fleet.run("register", CAR)

    assert result.status == "SUCCEEDED"
    assert result.output == {"outcome": "CarRegistered", "car_id": CAR_ID, "status": "AVAILABLE", "version": 2}
    assert result.states == HAPPY_PATH
    assert result.retries == 0
    car = fleet.item("Cars", car_id=CAR_ID)
    assert car["status"] == "AVAILABLE" and car["version"] == 2
    assert (car["vin"], car["model"], car["year"], car["seats"]) == ("1HGCM82633A004352", "Robotaxi S", 2024, 4)
    assert float(car["location"]["lat"]) == 52.52 and car["battery_pct"] == 88 and car["odometer_km"] == 0
    assert car["registered_by"] == result.execution_arn
    assert fleet.dlq() == []


def test_lowercase_vin_is_normalised(fleet):
    result = fleet.run("register", {**CAR, "vin": CAR["vin"].lower()})
    assert result.output["car_id"] == CAR_ID
    assert fleet.item("Cars", car_id=CAR_ID)["vin"] == CAR["vin"]


@pytest.mark.parametrize("change, field", [
    ({"vin": "1HGCM82633A00435"}, "vin"),           # 16 characters
    ({"vin": "1HGCM82633A00435O"}, "vin"),          # O is not in the VIN alphabet
    ({"year": 1999}, "year"),
    ({"seats": 0}, "seats"),
    ({"seats": 40}, "seats"),
    ({"model": "   "}, "model"),
])
def test_invalid_car_fails_with_the_field_named_and_no_dlq_message(fleet, change, field):
    result = fleet.run("register", {**CAR, **change})

    assert result.status == "FAILED"
    assert result.error == "CarValidationError"
    assert result.cause.startswith(f"{field}:"), result.cause
    assert result.states == ["ValidateCar", "ExplainInvalidCar", "InvalidCar"]
    assert fleet.items("Cars") == []
    assert fleet.dlq() == []


def test_missing_field_is_a_validation_error(fleet):
    request = {k: v for k, v in CAR.items() if k != "seats"}
    result = fleet.run("register", request)
    assert (result.status, result.error) == ("FAILED", "CarValidationError")
    assert result.cause.startswith("seats:")


def test_registering_the_same_car_twice_is_a_named_outcome_and_leaves_the_record_alone(fleet):
    first = fleet.run("register", CAR)
    before = fleet.item("Cars", car_id=CAR_ID)

    second = fleet.run("register", {**CAR, "model": "Someone Else's Car", "seats": 2})

    assert second.status == "SUCCEEDED"
    assert second.output == {"outcome": "CarAlreadyRegistered", "car_id": CAR_ID}
    assert second.states == ["ValidateCar", "PersistCar", "ReRegisterFailedCar", "CarAlreadyRegistered"]
    assert second.visits[1].status == "caught" and second.visits[1].errors == ["DynamoDB.ConditionalCheckFailedException"]
    assert second.visits[2].status == "caught"  # only a car whose registration failed is registered again
    assert fleet.item("Cars", car_id=CAR_ID) == before
    assert before["registered_by"] == first.execution_arn
    assert fleet.dlq() == []


def test_same_request_twice_returns_the_first_execution(fleet):
    """Execution names derive from the request, so a client's retry starts nothing new."""
    first = fleet.start("register", CAR)
    fleet.cloud.wait(first)
    second = fleet.start("register", CAR)
    assert second == first
    arn = fleet.cloud.state_machine_arn("register")
    assert len(fleet.sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_transient_inspection_failure_is_retried_and_recovers(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(error="TransientInspectionError", first=2)]})
    result = fleet.run("register", CAR)

    assert result.status == "SUCCEEDED"
    assert result.output["outcome"] == "CarRegistered"
    assert result.states == HAPPY_PATH
    inspect = result.visits[2]
    assert inspect.attempts == 3 and inspect.errors == ["TransientInspectionError"] * 2
    assert fleet.item("Cars", car_id=CAR_ID)["status"] == "AVAILABLE"
    assert fleet.dlq() == []
    # The backoff (full jitter over 1 s, then 2 s) was slept on the virtual clock, not waited out.
    assert 0 < fleet.cloud.clock.skipped <= 3


def test_inspection_that_keeps_failing_goes_to_the_dlq_and_marks_the_car_failed(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry link timed out")]})
    result = fleet.run("register", CAR)

    assert result.status == "FAILED"
    assert result.error == "TransientInspectionError"
    assert json.loads(result.cause)["errorMessage"] == "telemetry link timed out"
    assert result.states == ["ValidateCar", "PersistCar", "InspectCar", "InspectCarFailed", "RecordFailure", "SendToDLQ",
                             "CarPersisted", "MarkRegistrationFailed", "PublishRegistrationFailed",
                             "RegistrationFailed"]
    inspect = result.visits[2]
    assert inspect.attempts == 4 and inspect.retries == 3 and inspect.status == "caught"

    car = fleet.item("Cars", car_id=CAR_ID)
    assert car["status"] == "REGISTRATION_FAILED" and car["version"] == 2

    [message] = fleet.dlq()
    assert message["execution_arn"] == result.execution_arn
    assert message["workflow"] == "register"
    assert message["failed_state"] == "InspectCar"
    assert message["error"] == "TransientInspectionError"
    assert json.loads(message["cause"])["errorType"] == "TransientInspectionError"
    assert message["input"] == CAR


def test_lambda_service_errors_are_retried(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(throttle=True, first=1)]})
    result = fleet.run("register", CAR)
    assert result.status == "SUCCEEDED"
    assert result.visits[2].errors == ["Lambda.TooManyRequestsException"]


def test_a_table_past_its_throughput_is_retried_by_the_direct_integration(faulty_fleet):
    # PersistCar is the first request on Cars: refused twice as over capacity, then written.
    fleet = faulty_fleet({}, tables={"Cars": [TableFaultRule(throughput_exceeded=True, first=2)]})
    result = fleet.run("register", CAR)
    assert (result.status, result.output["outcome"]) == ("SUCCEEDED", "CarRegistered")
    persist = result.visits[1]
    assert persist.name == "PersistCar"
    assert persist.errors == ["DynamoDB.ProvisionedThroughputExceededException"] * 2
    assert fleet.item("Cars", car_id=result.output["car_id"])["status"] == "AVAILABLE"


def test_a_table_always_past_its_throughput_fails_the_execution_into_the_dlq(faulty_fleet):
    fleet = faulty_fleet({}, tables={"Cars": [TableFaultRule(throughput_exceeded=True)]})
    result = fleet.run("register", CAR)
    assert (result.status, result.error) == ("FAILED", "DynamoDB.ProvisionedThroughputExceededException")
    assert result.visits[1].errors == ["DynamoDB.ProvisionedThroughputExceededException"] * 4  # 1 + 3 retries
    [message] = fleet.dlq()
    assert (message["failed_state"], message["input"]) == ("PersistCar", CAR)
    fleet.cloud.runtime.fault_hook.enabled = False
    assert fleet.items("Cars") == []  # nothing was written


def test_a_handler_rides_out_a_table_past_its_throughput_on_the_sdks_retries(faulty_fleet):
    # RecordCarEvent writes CarHistory through boto3, which retries a throughput refusal itself.
    rule = TableFaultRule(throughput_exceeded=True, first=2)
    fleet = faulty_fleet({}, tables={"CarHistory": [rule]})
    result = fleet.run("register", CAR)
    assert result.status == "SUCCEEDED"
    history = drained_history(fleet)
    assert [h["status"] for h in history[result.output["car_id"]]] == ["REGISTERING", "AVAILABLE"]
    assert rule.fired == 2
    assert fleet.cloud.replay_failed_events() == 0  # nothing went to the consumers' failure queue


def test_inspection_timeout_is_an_operational_failure(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(timeout=True)]})
    result = fleet.run("register", CAR)
    assert fleet.cloud.clock.skipped > 15  # the handler "ran" past its 15 s timeout, virtually
    assert (result.status, result.error) == ("FAILED", "Sandbox.Timedout")
    [message] = fleet.dlq()
    assert message["failed_state"] == "InspectCar"
    assert "Task timed out after 15.00 seconds" in message["cause"]


def test_failed_inspection_is_a_domain_outcome(fleet):
    result = fleet.run("register", {**CAR, "battery_pct": 9})

    assert result.status == "SUCCEEDED"
    assert result.output["outcome"] == "CarFailedInspection"
    assert result.output["findings"] == ["battery below 15%"]
    assert result.states == ["ValidateCar", "PersistCar", "InspectCar", "InspectionPassed", "RejectCar",
                             "PublishCarRejected", "CarFailedInspection"]
    car = fleet.item("Cars", car_id=CAR_ID)
    assert (car["status"], car["version"]) == ("REGISTRATION_FAILED", 2)
    assert fleet.dlq() == []


def test_status_changes_reach_the_audit_history(fleet):
    fleet.run("register", CAR)
    deadline = time.monotonic() + 5
    history: list = []
    while time.monotonic() < deadline:  # the consumer runs asynchronously, as on AWS
        history = sorted(fleet.items("CarHistory"), key=lambda h: h["version"])
        if len(history) == 2:
            break
        time.sleep(0.01)
    assert [(h["version"], h["status"]) for h in history] == [(1, "REGISTERING"), (2, "AVAILABLE")]
    assert history[1]["previous_status"] == "REGISTERING"


def test_a_car_whose_registration_failed_can_be_registered_again(faulty_fleet):
    """What a DLQ redrive does: the failed car is registered anew, its version carrying on."""
    fleet = faulty_fleet({"InspectCar": [FaultRule(error="TransientInspectionError", first=4)]})
    failed = fleet.run("register", CAR)
    assert failed.status == "FAILED"
    assert fleet.item("Cars", car_id=CAR_ID)["status"] == "REGISTRATION_FAILED"

    again = fleet.run("register", {**CAR, "model": "Robotaxi S2"})

    assert again.status == "SUCCEEDED"
    assert again.output == {"outcome": "CarRegistered", "car_id": CAR_ID, "status": "AVAILABLE", "version": 4}
    assert again.states[:4] == ["ValidateCar", "PersistCar", "ReRegisterFailedCar", "InspectCar"]
    car = fleet.item("Cars", car_id=CAR_ID)
    assert (car["status"], car["version"], car["model"]) == ("AVAILABLE", 4, "Robotaxi S2")
    assert car["registered_by"] == again.execution_arn
