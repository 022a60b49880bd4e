"""Nothing stranded: an execution that ends without its own clean-up (here stopped, as an operator
or a restart of the local cloud does) releases what it held, through Step Functions' Execution
Status Change event on the default bus, the catalog's rule and ReleaseStranded; answering its task
token afterwards is refused, never reported as done."""

from __future__ import annotations

import json
import os

import pytest
from werkzeug.test import Client

from fleet_domain.control import resume
from workflows.definitions import catalog
from workflows.local.api_gateway import ApiGateway

from .fleet_steps import CARS, JOBS, RIDES, car_id, car_request, register, ride, sign_off, wait_for_job, wait_until_waiting
from .invariants import drained_history


def stop(fleet, arn: str, cause: str = "an operator stopped it") -> None:
    fleet.sfn.stop_execution(executionArn=arn, error="Stopped", cause=cause)
    fleet.cloud.wait(arn)
    assert fleet.cloud.runtime.wait_for_async(10)  # the event's rule has delivered it to ReleaseStranded


def test_a_stopped_dispatch_releases_its_ride_and_car_and_its_trip_cannot_be_completed(fleet):
    car = register(fleet, car_request(1))[0]
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    stop(fleet, arn)

    ride_item = fleet.item("Rides", ride_id="r-1")
    assert ride_item["status"] == "FAILED" and "task_token" not in ride_item
    assert ride_item["reason"].startswith("execution ABORTED")
    car_item = fleet.item("Cars", car_id=car)
    assert car_item["status"] == "AVAILABLE" and "ride_id" not in car_item and car_item["last_ride_id"] == "r-1"
    history = [(h["status"], h.get("reason", "")) for h in drained_history(fleet)[car]]
    assert history[-1][0] == "AVAILABLE" and history[-1][1].startswith("released: execution ABORTED")

    with pytest.raises(resume.NotWaiting, match="FAILED, not waiting"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-1", rides_table=RIDES, cars_table=CARS)
    # The car is the fleet's again: it can be sent to maintenance.
    arn = fleet.start("maintenance", {"car_id": car, "reason": "after a stopped trip"})
    assert wait_for_job(fleet, car)
    assert fleet.item("Cars", car_id=car)["status"] == "IN_MAINTENANCE"
    stop(fleet, arn)


def test_the_api_refuses_to_complete_the_trip_of_a_stopped_dispatch(fleet):
    register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    stop(fleet, arn)
    answer = Client(ApiGateway(fleet.cloud.runtime)).post("/rides/r-1/complete", json={"odometer_km": 10})
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert "not waiting" in answer.get_json()["message"]


def test_a_token_answered_after_its_execution_ended_is_refused_before_any_release(fleet):
    """Even before ReleaseStranded has run, Step Functions refuses the token: NotWaiting (409, exit 1)."""
    register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    token = fleet.item("Rides", ride_id="r-1")["task_token"]
    fleet.sfn.stop_execution(executionArn=arn, error="Stopped", cause="x")
    fleet.cloud.wait(arn)
    with pytest.raises(resume.NotWaiting):
        resume._send(fleet.sfn, token, {}, "the trip of ride r-1", lambda: None)
    assert fleet.cloud.runtime.wait_for_async(10)


def test_a_stopped_maintenance_releases_its_job_and_car(fleet):
    car = register(fleet, car_request(1))[0]
    arn = fleet.start("maintenance", {"car_id": car, "reason": "scheduled service"})
    job_id = wait_for_job(fleet, car)
    stop(fleet, arn, cause="wrong car")

    job = fleet.item("MaintenanceJobs", job_id=job_id)
    assert job["status"] == "FAILED" and job["reason_closed"].startswith("execution ABORTED")
    car_item = fleet.item("Cars", car_id=car)
    assert car_item["status"] == "AVAILABLE" and "job_id" not in car_item and car_item["last_job_id"] == job_id
    with pytest.raises(resume.NotWaiting):
        sign_off(fleet, job_id, passed=True)
    # The car is the fleet's again: it can be dispatched.
    fleet.start("dispatch", ride("r-after"))
    wait_until_waiting(fleet, "r-after")
    assert fleet.item("Cars", car_id=car)["status"] == "ON_TRIP"


@pytest.mark.xfail(os.environ.get("FLEET_ENGINE_SPEEDUPS") == "0", strict=False,
                   reason="with the adapter's speed-ups off this failed once in a full workflow run and passed on "
                          "rerun: a timing dependence not yet found")
def test_a_second_delivery_of_the_event_changes_nothing(fleet):
    car = register(fleet, car_request(1))[0]
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    stop(fleet, arn)
    before = (fleet.item("Cars", car_id=car), fleet.item("Rides", ride_id="r-1"))
    desc = fleet.sfn.describe_execution(executionArn=arn)
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
             "detail": {"executionArn": arn, "stateMachineArn": desc["stateMachineArn"], "name": desc["name"],
                        "status": "ABORTED", "input": desc["input"], "error": "Stopped", "cause": "again"}}
    answer = fleet.cloud.runtime.invoke(catalog.function("ReleaseStranded").function_name, json.dumps(event)).json()
    assert answer["car_id"] is None and answer["note"].startswith("nothing held")
    assert (fleet.item("Cars", car_id=car), fleet.item("Rides", ride_id="r-1")) == before


def test_an_execution_that_ends_through_its_own_clean_up_releases_nothing_more(fleet):
    """A dispatch that failed into its Catch (MarkRideFailed wrote the ride and car) sends the same
    FAILED event: ReleaseStranded finds nothing of its own to release."""
    register(fleet, car_request(1))
    result = fleet.run("dispatch", {**ride("r-1"), "passengers": 0})  # invalid: RideValidationError, no ride
    assert result.status == "FAILED"
    assert fleet.cloud.runtime.wait_for_async(10)
    assert fleet.item("Cars", car_id=car_id(1))["status"] == "AVAILABLE"
    assert fleet.item("Rides", ride_id="r-1") is None


def test_the_rule_is_on_the_default_bus_for_the_fleets_machines(fleet):
    events = fleet.cloud.client("events")
    (rule,) = [r for r in events.list_rules()["Rules"] if r["Name"] == catalog.EXECUTION_STATUS_RULES[0].rule_name]
    pattern = json.loads(rule["EventPattern"])
    assert pattern["source"] == ["aws.states"] and set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert len(pattern["detail"]["stateMachineArn"]) == len(catalog.STATE_MACHINES)
    assert JOBS  # the tables the release writes are the catalog's
