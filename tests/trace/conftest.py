"""Real executions of every workflow path, run once for the trace tests (one local cloud for the
package, on a virtual clock), plus a small state machine of our own with the nested structures
(Parallel with a Retry, Map with a Choice, a task token sent back as a failure).

Faults are injected with the same Faults hook `fleet up --faults` uses; its rules are set per
scenario, and the scenarios run one after the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fleet_domain.control import resume
from tests.conftest import Fleet
from workflows.definitions import catalog
from workflows.local.cloud import STATE_MACHINE_ROLE, LocalCloud
from workflows.local.faults import FaultRule, Faults
from workflows.trace.model import ExecutionTrace, load_trace

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
       "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88}
MARKUP = "</script><script>alert('x')</script><!-- & \u2028"  # must stay data in the page
FLAKY_VIN, BROKEN_VIN = "5YJ3E1EA7KF317001", "5YJ3E1EA7KF317002"
RIDES = catalog.table("Rides").table_name
CARS = catalog.table("Cars").table_name
JOBS = catalog.table("MaintenanceJobs").table_name

# Our own machine: Parallel (a branch waits, a Retry re-runs the Parallel once), Map with a
# Choice per item, a task token handed out over SQS and answered with a failure that is caught.
NESTED_NAME = "trace-nested"
NESTED_ASL = {
    "Comment": "Nested structures for the trace tests.",
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel", "ResultPath": "$.fan", "Next": "Items",
            "Retry": [{"ErrorEquals": ["FlakyBranch"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "FanFailed"}],
            "Branches": [
                {"StartAt": "Prepare", "States": {
                    "Prepare": {"Type": "Pass", "Next": "Settle"},
                    "Settle": {"Type": "Wait", "Seconds": 5, "End": True}}},
                {"StartAt": "FlakyOnFirstRun", "States": {
                    "FlakyOnFirstRun": {"Type": "Choice",
                                        "Choices": [{"Variable": "$.flaky", "BooleanEquals": True, "Next": "Explode"}],
                                        "Default": "Calm"},
                    "Explode": {"Type": "Fail", "Error": "FlakyBranch", "Cause": "the branch blew up"},
                    "Calm": {"Type": "Succeed"}}},
            ]},
        "FanFailed": {"Type": "Pass", "Next": "Items"},
        "Items": {
            "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.sizes", "Next": "AskOperator",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Size", "States": {
                "Size": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "Big"}],
                         "Default": "Small"},
                "Big": {"Type": "Pass", "Result": "big", "End": True},
                "Small": {"Type": "Pass", "Result": "small", "End": True}}}},
        "AskOperator": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "${QueueUrl}", "MessageBody": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.answer", "Next": "Done",
            "Catch": [{"ErrorEquals": ["OperatorSaidNo"], "ResultPath": "$.error", "Next": "Refused"}]},
        "Done": {"Type": "Succeed"},
        "Refused": {"Type": "Fail", "Error": "Refused", "Cause": "the operator said no"},
    },
}
# The nested machine's input: the first run of the Parallel fails (the Retry re-runs it with the
# same input, so this makes both runs fail and the Catch take over) unless `flaky` is false.
NESTED_INPUT = {"flaky": False, "items": [1, 2, 3]}


@dataclass
class Traced:
    """The executions of the package, by scenario name."""

    cloud: LocalCloud
    fleet: Fleet
    arns: dict[str, str] = field(default_factory=dict)
    running: dict[str, ExecutionTrace] = field(default_factory=dict)  # snapshots taken while waiting
    machine_arns: dict[str, str] = field(default_factory=dict)
    _cache: dict[str, ExecutionTrace] = field(default_factory=dict)

    @property
    def sfn(self) -> Any:
        return self.fleet.sfn

    def trace(self, scenario: str) -> ExecutionTrace:
        if scenario not in self._cache:
            self._cache[scenario] = load_trace(self.sfn, self.arns[scenario])
        return self._cache[scenario]


def _until(what: str, check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting for {what}")
        time.sleep(0.005)


def _trip_waiting(fleet: Fleet, ride_id: str) -> bool:
    try:
        resume.heartbeat_trip(fleet.sfn, fleet.ddb, ride_id, rides_table=RIDES)
        return True
    except resume.NotWaiting:
        return False


def _job_waiting(fleet: Fleet, car_id: str) -> str | None:
    from fleet_domain.data.jobs import MaintenanceJobRepository

    jobs = MaintenanceJobRepository(fleet.ddb, jobs_table=JOBS)
    return next((j.job_id for j in jobs.for_car(car_id) if j.waiting), None)


def _car(n: int, **overrides: Any) -> dict:
    return {"vin": f"TRACECAR{n:09d}", "model": "Robotaxi S", "year": 2024, "seats": 4,
            "location": {"lat": 52.52 + n * 0.001, "lon": 13.405}, "battery_pct": 90, **overrides}


def _ride(ride_id: str, passengers: int = 2) -> dict:
    return {"ride_id": ride_id, "pickup": {"lat": 52.515, "lon": 13.40}, "dropoff": {"lat": 52.50, "lon": 13.35},
            "passengers": passengers}


@pytest.fixture(scope="package")
def traced() -> Iterator[Traced]:
    faults = Faults({})
    cloud = LocalCloud(virtual_time=True, fault_hook=faults).start()
    try:
        fleet = Fleet(cloud)
        t = Traced(cloud, fleet)
        for sm in catalog.STATE_MACHINES:
            t.machine_arns[sm.workflow] = cloud.state_machine_arn(sm.workflow)

        def run(scenario: str, workflow: str, payload: dict, rules: dict | None = None, name: str | None = None) -> str:
            faults.rules = rules or {}
            arn = fleet.start(workflow, payload, name)
            cloud.wait(arn)
            faults.rules = {}
            t.arns[scenario] = arn
            return arn

        # --- register: every path ---
        run("register_happy", "register", CAR)
        run("register_retried", "register", {**CAR, "vin": FLAKY_VIN},
            {"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry link timed out", first=2)]})
        run("register_dlq", "register", {**CAR, "vin": BROKEN_VIN},
            {"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry link timed out")]})
        run("register_invalid", "register", {**CAR, "vin": "NOT-A-VIN"})
        run("register_duplicate", "register", {**CAR, "model": "Someone Else's Car"})
        run("register_rejected", "register", {**CAR, "vin": "2T1BURHE0JC043821", "battery_pct": 9})
        run("register_markup", "register", {**CAR, "vin": "3VWFE21C04M000001", "model": MARKUP})

        # --- dispatch: a trip (waits for its task token), no car, an invalid request ---
        for n in (1, 2, 3):
            run(f"car_{n}", "register", _car(n))
        arn = fleet.start("dispatch", _ride("r-trip"))
        _until("the trip to wait for its completion", lambda: _trip_waiting(fleet, "r-trip"))
        t.running["dispatch_trip"] = load_trace(fleet.sfn, arn)
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-trip", odometer_km=12, battery_pct=80.0,
                             rides_table=RIDES, cars_table=CARS)
        cloud.wait(arn)
        t.arns["dispatch_trip"] = arn
        run("dispatch_no_car", "dispatch", _ride("r-crowd", passengers=9))
        run("dispatch_invalid", "dispatch", {**_ride("r-bad"), "passengers": 0})

        # --- maintenance: Parallel, Map (one check retried), sign-off by task token ---
        faults.rules = {"RunCheck": [FaultRule(error="TransientCheckError", message="rig offline", first=1)]}
        arn = fleet.start("maintenance", {"car_id": "car-TRACECAR000000001", "reason": "brake noise"})
        job = _until("the job to await its sign-off", lambda: _job_waiting(fleet, "car-TRACECAR000000001"))
        t.running["maintenance_signed_off"] = load_trace(fleet.sfn, arn)
        faults.rules = {}
        resume.sign_off(fleet.sfn, fleet.ddb, job, True, "all good", jobs_table=JOBS)
        cloud.wait(arn)
        t.arns["maintenance_signed_off"] = arn
        run("maintenance_parts_down", "maintenance", {"car_id": "car-TRACECAR000000002", "reason": "brake noise"},
            {"OrderParts": [FaultRule(error="PartsSupplierDown", message="supplier API answers 503")]})
        run("maintenance_checks_fail", "maintenance", {"car_id": "car-TRACECAR000000003", "reason": "brake noise"},
            {"RunCheck": [FaultRule(error="TransientCheckError", message="rig offline")]})

        # --- our own nested machine: a run where the Parallel is retried, one where it is not ---
        queue_url = fleet.sqs.create_queue(QueueName="trace-operator")["QueueUrl"]
        definition = json.dumps(NESTED_ASL).replace("${QueueUrl}", queue_url)
        nested = fleet.sfn.create_state_machine(name=NESTED_NAME, definition=definition,
                                                roleArn=STATE_MACHINE_ROLE)["stateMachineArn"]
        t.machine_arns["nested"] = nested

        def run_nested(scenario: str, payload: dict, answer: Callable[[str], None]) -> None:
            arn = fleet.sfn.start_execution(stateMachineArn=nested, name=scenario, input=json.dumps(payload))["executionArn"]
            message = _until("the task token", lambda: fleet.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0).get("Messages"))[0]
            fleet.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            t.running[scenario] = load_trace(fleet.sfn, arn)
            answer(json.loads(message["Body"])["token"])
            cloud.wait(arn)
            t.arns[scenario] = arn

        run_nested("nested_ok", NESTED_INPUT,
                   lambda token: fleet.sfn.send_task_success(taskToken=token, output=json.dumps({"ok": True})))
        run_nested("nested_refused", {**NESTED_INPUT, "flaky": True},
                   lambda token: fleet.sfn.send_task_failure(taskToken=token, error="OperatorSaidNo", cause="not today"))
        yield t
    finally:
        cloud.stop()
