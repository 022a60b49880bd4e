"""The dispatch workflow, every path, on the real engine with the real handlers.

Each test asserts four things: final status and output, the states visited (from
GetExecutionHistory), the DynamoDB items, and the DLQ content. The invariants over the whole
tables (tests/workflows/invariants.py) are checked after each test by tests/workflows/conftest.py.
Trips are completed the way the CLI and the API do it: fleet_domain.control.resume.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from fleet_domain.control import resume
from workflows.local.faults import FaultRule
from workflows.targets import stepfunctions

from .fleet_steps import RIDES, TripCompleter, car_id, car_request, complete, register, ride, wait_until_waiting
from .invariants import drained_history

TRIP = ["FindCandidates", "RecordRide", "CandidateLeft", "PickCandidate", "ReserveCar", "PublishCarReserved",
        "PlanRoute", "StartTrip", "CompleteTrip", "MaintenanceDue"]
DISPATCH_FAILED = ["RecordFailure", "SendToDLQ", "RideRecorded", "MarkRideFailed", "DispatchFailed"]


def finish(fleet, arn):
    return stepfunctions.describe(fleet.sfn, arn, fleet.cloud.wait(arn))


def advance_until_done(fleet, arn, seconds, tries=10):
    """Move the virtual clock until the execution ends (a waiting state re-arms its timer after
    each heartbeat, so one jump may land before it has)."""
    for _ in range(tries):
        fleet.cloud.clock.advance(seconds)
        time.sleep(0.05)
        if fleet.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            return


def statuses(fleet, car):
    return [(h["version"], h["status"]) for h in drained_history(fleet).get(car, [])]


def test_dispatches_the_nearest_car_and_completes_the_trip(fleet):
    near, far = register(fleet, car_request(1), car_request(2, location={"lat": 52.60, "lon": 13.50}))
    request = ride("r-1", passengers=3)
    arn = fleet.start("dispatch", request)
    wait_until_waiting(fleet, "r-1")

    on_trip = fleet.item("Rides", ride_id="r-1")
    assert (on_trip["status"], on_trip["car_id"]) == ("ON_TRIP", near) and on_trip["task_token"]
    assert fleet.item("Cars", car_id=near)["status"] == "ON_TRIP"

    complete(fleet, "r-1", odometer_km=12, battery_pct=80.5)
    result = finish(fleet, arn)

    assert result.status == "SUCCEEDED"
    assert result.output == {
        "outcome": "TripCompleted", "ride_id": "r-1", "car_id": near, "status": "COMPLETED",
        "distance_km": result.output["distance_km"], "odometer_km": 12, "battery_pct": 80.5,
        "maintenance": {"due": False, "reason": None},
    }
    assert 3 < result.output["distance_km"] < 6
    assert result.states == TRIP + ["TripCompleted"]
    assert result.retries == 0
    start_trip = result.visits[TRIP.index("StartTrip")]
    assert start_trip.waited_for_token

    car = fleet.item("Cars", car_id=near)
    assert (car["status"], car["version"], car["odometer_km"], car["battery_pct"]) == ("AVAILABLE", 5, 12, 80.5)
    assert car["km_since_service"] == 12 and car["last_ride_id"] == "r-1" and "ride_id" not in car
    assert (float(car["location"]["lat"]), float(car["location"]["lon"])) == (52.5, 13.35)
    done = fleet.item("Rides", ride_id="r-1")
    assert done["status"] == "COMPLETED" and done["car_id"] == near and "task_token" not in done
    assert done["trip"]["driven_km"] == 12 and done["dispatched_by"] == arn
    assert fleet.item("Cars", car_id=far)["version"] == 2  # untouched
    assert statuses(fleet, near) == [(1, "REGISTERING"), (2, "AVAILABLE"), (3, "RESERVED"), (4, "ON_TRIP"),
                                     (5, "AVAILABLE")]
    assert fleet.dlq() == []


def test_a_trip_without_a_report_is_estimated_from_the_route(fleet):
    [car] = register(fleet, car_request(1, odometer_km=1000, battery_pct=90))
    arn = fleet.start("dispatch", ride("r-1"))
    complete(fleet, "r-1")
    result = finish(fleet, arn)
    distance = result.output["distance_km"]
    assert result.output["odometer_km"] == 1000 + int(-(-distance // 1))  # whole km, rounded up
    assert result.output["battery_pct"] == round(90 - distance * 0.2, 1)
    assert fleet.item("Cars", car_id=car)["odometer_km"] == result.output["odometer_km"]


@pytest.mark.parametrize("change, field", [
    ({"ride_id": "has spaces"}, "ride_id"),
    ({"passengers": 0}, "passengers"),
    ({"passengers": 12}, "passengers"),
    ({"pickup": {"lat": 91, "lon": 13}}, "pickup.lat"),
    ({"dropoff": "Alexanderplatz"}, "dropoff"),
    ({"luggage": 3}, "luggage"),
])
def test_invalid_ride_fails_with_the_field_named_and_no_dlq_message(fleet, change, field):
    result = fleet.run("dispatch", {**ride("r-1"), **change})

    assert (result.status, result.error) == ("FAILED", "RideValidationError")
    assert result.cause.startswith(f"{field}:"), result.cause
    assert result.states == ["FindCandidates", "ExplainInvalidRide", "InvalidRide"]
    assert fleet.items("Rides") == []
    assert fleet.dlq() == []


def test_missing_field_is_a_validation_error(fleet):
    request = {k: v for k, v in ride("r-1").items() if k != "dropoff"}
    result = fleet.run("dispatch", request)
    assert (result.error, result.cause) == ("RideValidationError", "dropoff: is required")


def test_no_car_available_rejects_the_ride(fleet):
    register(fleet, car_request(1, seats=2))  # too small for 4 passengers
    result = fleet.run("dispatch", ride("r-1", passengers=4))

    assert result.status == "SUCCEEDED"
    assert result.output == {"outcome": "NoCarAvailable", "ride_id": "r-1", "status": "REJECTED", "candidates": 0}
    assert result.states == ["FindCandidates", "RecordRide", "CandidateLeft", "LookAgain", "RejectRide", "NoCarAvailable"]
    rejected = fleet.item("Rides", ride_id="r-1")
    assert rejected["status"] == "REJECTED" and rejected["reason"].startswith("no car available")
    assert fleet.item("Cars", car_id=car_id(1))["version"] == 2
    assert fleet.dlq() == []


def test_a_car_without_the_battery_for_the_trip_is_not_a_candidate(fleet):
    register(fleet, car_request(1, battery_pct=22))  # not due for maintenance, but 15% reserve + the trip
    far_dropoff = {"lat": 53.55, "lon": 10.0}  # Hamburg: ~255 km, 51% of a battery
    result = fleet.run("dispatch", ride("r-1", dropoff=far_dropoff))
    assert result.output["outcome"] == "NoCarAvailable"


def test_a_different_request_for_the_same_ride_is_a_named_outcome(fleet):
    register(fleet, car_request(1))
    first = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    before = fleet.item("Rides", ride_id="r-1")

    second = fleet.run("dispatch", ride("r-1", passengers=1))

    assert second.status == "SUCCEEDED"
    assert second.output == {"outcome": "RideAlreadyRequested", "ride_id": "r-1"}
    assert second.states == ["FindCandidates", "RecordRide", "RideAlreadyRequested"]
    assert second.visits[1].status == "caught"
    assert fleet.item("Rides", ride_id="r-1") == before
    complete(fleet, "r-1")
    assert finish(fleet, first).output["outcome"] == "TripCompleted"
    assert fleet.dlq() == []


def test_the_same_request_twice_is_one_execution(fleet):
    register(fleet, car_request(1))
    first = fleet.start("dispatch", ride("r-1"))
    assert fleet.start("dispatch", ride("r-1")) == first
    complete(fleet, "r-1")
    finish(fleet, first)
    arn = fleet.cloud.state_machine_arn("dispatch")
    assert len(fleet.sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_contention_twenty_rides_for_five_cars_never_reserve_a_car_twice(fleet):
    cars = register(fleet, *[car_request(n) for n in range(1, 6)])
    rides = [ride(f"r-{n:02d}", passengers=1 + n % 4) for n in range(20)]

    with TripCompleter(fleet) as cars_driving:  # each trip is completed as soon as it starts
        arns = [fleet.start("dispatch", r) for r in rides]
        results = [stepfunctions.describe(fleet.sfn, arn, fleet.cloud.wait(arn, 60)) for arn in arns]
    assert len(cars_driving.completed) == sum(r.output["outcome"] == "TripCompleted" for r in results)

    outcomes = Counter(r.output["outcome"] for r in results)
    assert all(r.status == "SUCCEEDED" for r in results), [(r.status, r.error, r.cause) for r in results]
    assert set(outcomes) <= {"TripCompleted", "NoCarAvailable"}
    assert outcomes["TripCompleted"] >= len(cars)  # every car took at least the first wave
    ride_items = {r["ride_id"]: r for r in fleet.items("Rides")}
    assert len(ride_items) == 20
    assert {r["status"] for r in ride_items.values()} <= {"COMPLETED", "REJECTED"}
    for result in results:
        item = ride_items[result.output["ride_id"]]
        assert item["status"] == ("COMPLETED" if result.output["outcome"] == "TripCompleted" else "REJECTED")
    # A reservation that lost its car lost it to a condition, and the ride moved on to the next candidate.
    for r in results:
        for visit in (v for v in r.visits if v.name == "ReserveCar" and v.status == "caught"):
            assert visit.errors == ["DynamoDB.ConditionalCheckFailedException"]
        assert r.states.count("CandidateTaken") == sum(1 for v in r.visits if v.name == "ReserveCar"
                                                       and v.status == "caught")

    history = drained_history(fleet)
    trips_per_car = Counter(r["car_id"] for r in ride_items.values() if r["status"] == "COMPLETED")
    for car in cars:
        changes = [h["status"] for h in history[car]]
        # Each reservation is followed by its trip and the car's return, never by a second reservation.
        assert changes == ["REGISTERING", "AVAILABLE"] + ["RESERVED", "ON_TRIP", "AVAILABLE"] * trips_per_car[car]
        reservations = [h for h in history[car] if h["status"] == "RESERVED"]
        reserved_for = [h["reason"].removeprefix("reserved for ride ") for h in reservations]
        assert sorted(reserved_for) == sorted(k for k, r in ride_items.items() if r.get("car_id") == car
                                              and r["status"] == "COMPLETED")
    assert fleet.dlq() == []


def test_trip_past_its_timeout_goes_to_the_dlq_and_takes_the_car_out_of_service(fleet):
    [car] = register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    # The car keeps sending heartbeats, but the trip runs past its one-hour TimeoutSeconds.
    for _ in range(10):
        fleet.cloud.clock.advance(500)
        try:
            resume.heartbeat_trip(fleet.sfn, fleet.ddb, "r-1", rides_table=RIDES)
        except resume.NotWaiting:
            break
        time.sleep(0.02)  # let the engine take the heartbeat before the clock moves on
    result = finish(fleet, arn)

    assert (result.status, result.error) == ("FAILED", "TripTimedOut")
    assert result.cause == f"no trip report from car {car} within 3600 s of the start (States.Timeout)"
    assert result.states == TRIP[:TRIP.index("StartTrip") + 1] + ["EndTripWait", "WhichWaitRanOut", "TripTimedOut",
                                                               "StartTripFailed"] + DISPATCH_FAILED
    assert result.visits[TRIP.index("StartTrip")].errors == ["States.Timeout"]
    assert fleet.cloud.clock.skipped >= 3600
    car_item = fleet.item("Cars", car_id=car)
    assert (car_item["status"], car_item["version"]) == ("OUT_OF_SERVICE", 5) and "ride_id" not in car_item
    failed = fleet.item("Rides", ride_id="r-1")
    assert failed["status"] == "FAILED" and failed["reason"] == "StartTrip: TripTimedOut"
    assert "task_token" not in failed
    [message] = fleet.dlq()
    assert (message["workflow"], message["failed_state"], message["error"]) == ("dispatch", "StartTrip", "TripTimedOut")
    assert message["execution_arn"] == result.execution_arn and message["input"] == ride("r-1")
    assert statuses(fleet, car)[-2:] == [(4, "ON_TRIP"), (5, "OUT_OF_SERVICE")]


def test_lost_heartbeat_goes_to_the_dlq_and_takes_the_car_out_of_service(fleet):
    [car] = register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    advance_until_done(fleet, arn, 601)  # HeartbeatSeconds is 600: the car went silent
    result = finish(fleet, arn)

    assert (result.status, result.error) == ("FAILED", "CarHeartbeatLost")
    assert result.states == TRIP[:TRIP.index("StartTrip") + 1] + ["EndTripWait", "WhichWaitRanOut", "CarHeartbeatLost",
                                                               "StartTripFailed"] + DISPATCH_FAILED
    assert result.visits[TRIP.index("StartTrip")].errors == ["States.HeartbeatTimeout"]
    assert fleet.item("Cars", car_id=car)["status"] == "OUT_OF_SERVICE"
    assert fleet.item("Rides", ride_id="r-1")["status"] == "FAILED"
    [message] = fleet.dlq()
    assert (message["failed_state"], message["error"]) == ("StartTrip", "CarHeartbeatLost")
    assert "States.HeartbeatTimeout" in message["cause"]
    with pytest.raises(resume.NotWaiting, match="r-1 is FAILED"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-1", rides_table=RIDES)


def test_heartbeats_keep_a_long_trip_alive(fleet):
    register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    for _ in range(3):  # 30 minutes of driving, well past one HeartbeatSeconds
        fleet.cloud.clock.advance(590)
        resume.heartbeat_trip(fleet.sfn, fleet.ddb, "r-1", rides_table=RIDES)
    complete(fleet, "r-1")
    assert finish(fleet, arn).output["outcome"] == "TripCompleted"


def test_failure_before_the_trip_releases_the_reservation(faulty_fleet):
    fleet = faulty_fleet({"PlanRoute": [FaultRule(error="TransientRoutingError", message="routing service down")]})
    [car] = register(fleet, car_request(1))
    result = fleet.run("dispatch", ride("r-1"))

    assert (result.status, result.error) == ("FAILED", "TransientRoutingError")
    assert result.states == TRIP[:TRIP.index("PlanRoute") + 1] + ["PlanRouteFailed"] + DISPATCH_FAILED
    assert result.visits[TRIP.index("PlanRoute")].attempts == 4
    car_item = fleet.item("Cars", car_id=car)
    assert (car_item["status"], car_item["version"]) == ("AVAILABLE", 4) and "ride_id" not in car_item
    assert fleet.item("Rides", ride_id="r-1")["status"] == "FAILED"
    [message] = fleet.dlq()
    assert (message["failed_state"], message["error"]) == ("PlanRoute", "TransientRoutingError")
    assert json.loads(message["cause"])["errorMessage"] == "routing service down"
    assert statuses(fleet, car)[-2:] == [(3, "RESERVED"), (4, "AVAILABLE")]


def test_transient_routing_error_is_retried(faulty_fleet):
    fleet = faulty_fleet({"PlanRoute": [FaultRule(error="TransientRoutingError", first=1)]})
    register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    complete(fleet, "r-1")
    result = finish(fleet, arn)
    assert result.output["outcome"] == "TripCompleted"
    assert result.visits[TRIP.index("PlanRoute")].errors == ["TransientRoutingError"]
    assert fleet.dlq() == []


@pytest.mark.parametrize("function", ["StartTrip", "CompleteTrip"])
def test_a_step_that_timed_out_after_writing_is_retried_idempotently(faulty_fleet, function):
    """The first attempt writes, then runs past its timeout: the retry finds its own write and
    answers the same, so the car moves one version per change and each change is published once."""
    fleet = faulty_fleet({function: [FaultRule(timeout=True, first=1)]})
    [car] = register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    complete(fleet, "r-1", odometer_km=7)
    result = finish(fleet, arn)

    assert result.output["outcome"] == "TripCompleted"
    assert result.visits[TRIP.index(function)].errors == ["Sandbox.Timedout"]
    assert fleet.item("Cars", car_id=car)["version"] == 5
    assert [s for _, s in statuses(fleet, car)] == ["REGISTERING", "AVAILABLE", "RESERVED", "ON_TRIP", "AVAILABLE"]
    assert fleet.dlq() == []


def test_an_impossible_trip_report_takes_the_car_out_of_service(fleet):
    [car] = register(fleet, car_request(1, odometer_km=5000))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    with pytest.raises(ValueError, match="below the 5000 km"):  # the CLI and the API refuse it ...
        complete(fleet, "r-1", odometer_km=10)
    token = fleet.item("Rides", ride_id="r-1")["task_token"]
    fleet.sfn.send_task_success(taskToken=token, output=json.dumps({"odometer_km": 10}))  # ... a raw call cannot
    result = finish(fleet, arn)

    assert (result.status, result.error) == ("FAILED", "TripReportError")
    assert result.states == TRIP[:TRIP.index("CompleteTrip") + 1] + ["CompleteTripFailed"] + DISPATCH_FAILED
    assert fleet.item("Cars", car_id=car)["status"] == "OUT_OF_SERVICE"
    assert fleet.item("Rides", ride_id="r-1")["status"] == "FAILED"
    [message] = fleet.dlq()
    assert message["failed_state"] == "CompleteTrip"


def test_failure_to_find_candidates_goes_to_the_dlq_and_records_nothing(faulty_fleet):
    fleet = faulty_fleet({"FindCandidates": [FaultRule(throttle=True)]})
    result = fleet.run("dispatch", ride("r-1"))
    assert (result.status, result.error) == ("FAILED", "Lambda.TooManyRequestsException")
    assert result.states == ["FindCandidates", "FindCandidatesFailed", "RecordFailure", "SendToDLQ", "RideRecorded", "DispatchFailed"]
    assert fleet.items("Rides") == []
    [message] = fleet.dlq()
    assert message["failed_state"] == "FindCandidates"


def test_maintenance_due_after_a_trip_is_started_once(fleet):
    [car] = register(fleet, car_request(1, battery_pct=40))
    arn = fleet.start("dispatch", ride("r-1"))
    complete(fleet, "r-1", battery_pct=12.5)
    result = finish(fleet, arn)

    assert result.status == "SUCCEEDED"
    assert result.states == TRIP + ["StartMaintenance", "TripCompleted"]
    maintenance = result.output["maintenance"]
    assert maintenance["due"] is True and maintenance["reason"] == "battery at 12.5% (under 20%)"
    child = maintenance["execution"]["execution_arn"]
    assert child.endswith(f":maintenance-{car}-r-1") and maintenance["execution"]["already_started"] is False

    from .fleet_steps import sign_off, wait_for_job

    job_id = wait_for_job(fleet, car)
    assert job_id == f"maintenance-{car}-r-1"
    job = fleet.item("MaintenanceJobs", job_id=job_id)
    assert (job["ride_id"], job["reason"]) == ("r-1", "battery at 12.5% (under 20%)")
    assert "battery" in [c["check"] for c in job["checks"]]

    # The dispatch's StartMaintenance, repeated exactly as it ran (a retry whose first call took
    # effect), answers with the same execution: nothing new starts.
    [scheduled] = [e for e in fleet.sfn.get_execution_history(executionArn=arn)["events"]
                   if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resource"] == "startExecution"]
    call = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    again = fleet.sfn.start_execution(stateMachineArn=call["StateMachineArn"], name=call["Name"],
                                      input=json.dumps(call["Input"], separators=(",", ":")))
    assert again["executionArn"] == child

    sign_off(fleet, job_id, passed=True, notes="charged")
    assert finish(fleet, child).output["outcome"] == "BackInService"
    # Once it has ended, the same call is refused: still one maintenance.
    with pytest.raises(fleet.sfn.exceptions.ExecutionAlreadyExists):
        fleet.sfn.start_execution(stateMachineArn=call["StateMachineArn"], name=call["Name"],
                                  input=json.dumps(call["Input"], separators=(",", ":")))
    executions = fleet.sfn.list_executions(stateMachineArn=fleet.cloud.state_machine_arn("maintenance"))
    assert [e["executionArn"] for e in executions["executions"]] == [child]
    assert [s for _, s in statuses(fleet, car)][-3:] == ["AVAILABLE", "IN_MAINTENANCE", "AVAILABLE"]
    assert fleet.dlq() == []


def test_start_maintenance_that_finds_its_name_taken_starts_nothing(fleet):
    """A retried StartMaintenance meets the execution its first attempt started (here one that has
    already ended): the dispatch records it as already started and succeeds."""
    [car] = register(fleet, car_request(1, battery_pct=40))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    name = f"maintenance-{car}-r-1"
    earlier = fleet.start("maintenance", {"car_id": car, "reason": "battery low"}, name=name)
    fleet.cloud.wait(earlier)
    complete(fleet, "r-1", battery_pct=12.5)
    result = finish(fleet, arn)

    assert result.status == "SUCCEEDED"
    assert result.states == TRIP + ["StartMaintenance", "MaintenanceAlreadyStarted", "TripCompleted"]
    assert result.output["maintenance"]["execution"] == {"execution_name": name, "already_started": True}
    executions = fleet.sfn.list_executions(stateMachineArn=fleet.cloud.state_machine_arn("maintenance"))
    assert [e["executionArn"] for e in executions["executions"]] == [earlier]
    assert fleet.dlq() == []


def test_resuming_a_trip_that_is_not_waiting_is_refused(fleet):
    register(fleet, car_request(1))
    with pytest.raises(resume.NotWaiting, match="^no ride r-404$"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-404", rides_table=RIDES)

    arn = fleet.start("dispatch", ride("r-1"))
    complete(fleet, "r-1")
    with pytest.raises(resume.NotWaiting, match="ride r-1 is (ON_TRIP|COMPLETED)"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-1", rides_table=RIDES)  # completed twice
    finish(fleet, arn)
    with pytest.raises(resume.NotWaiting, match="ride r-1 is COMPLETED, not waiting"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-1", rides_table=RIDES)

    fleet.run("dispatch", ride("r-2", passengers=9))  # no car seats 9: REJECTED
    with pytest.raises(resume.NotWaiting, match="ride r-2 is REJECTED"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-2", rides_table=RIDES)
    with pytest.raises(ValueError, match="battery_pct"):
        resume.complete_trip(fleet.sfn, fleet.ddb, "r-1", battery_pct=120, rides_table=RIDES)


def test_a_failed_ride_redriven_from_the_dlq_is_dispatched_again(faulty_fleet):
    fleet = faulty_fleet({"PlanRoute": [FaultRule(error="TransientRoutingError", first=4)]})  # one execution's worth
    [car] = register(fleet, car_request(1))
    failed = fleet.run("dispatch", ride("r-1"))
    assert failed.status == "FAILED" and fleet.item("Rides", ride_id="r-1")["status"] == "FAILED"

    [redriven] = fleet.dead_letters().redrive(fleet.sfn).results
    assert redriven.started and redriven.deleted
    complete(fleet, "r-1")
    result = finish(fleet, redriven.execution_arn)

    assert result.output["outcome"] == "TripCompleted" and result.output["car_id"] == car
    assert result.states == TRIP + ["TripCompleted"]
    ride_item = fleet.item("Rides", ride_id="r-1")
    assert (ride_item["status"], ride_item["dispatched_by"]) == ("COMPLETED", redriven.execution_arn)
    assert [s for _, s in statuses(fleet, car)] == ["REGISTERING", "AVAILABLE", "RESERVED", "AVAILABLE", "RESERVED",
                                                    "ON_TRIP", "AVAILABLE"]
    assert fleet.dlq() == []


def test_a_late_step_of_the_failed_execution_changes_nothing_of_the_ride_its_redrive_owns(faulty_fleet):
    """The redrive recorded the ride again and reserved the same car for it (the car's holder is
    the ride either way): the failed execution's MarkRideFailed, run once more (late, or redriven
    in place), is refused by the ride's `dispatched_by` and the redrive's trip goes on."""
    from workflows.definitions import catalog

    fleet = faulty_fleet({"PlanRoute": [FaultRule(error="TransientRoutingError", first=4)]})  # one execution's worth
    [car] = register(fleet, car_request(1))
    failed = fleet.run("dispatch", ride("r-1"))
    [redriven] = fleet.dead_letters().redrive(fleet.sfn).results
    wait_until_waiting(fleet, "r-1")
    before = (fleet.item("Rides", ride_id="r-1"), fleet.item("Cars", car_id=car))
    assert (before[0]["dispatched_by"], before[1]["status"], before[1]["ride_id"]) == (
        redriven.execution_arn, "ON_TRIP", "r-1")

    late = {"ride_id": "r-1", "candidate": {"car_id": car, "version": 2}, "failed_state": "PlanRoute",
            "error": "TransientRoutingError", "at": "2026-12-02T16:00:00.000Z", "execution_arn": failed.execution_arn}
    refused = fleet.cloud.runtime.invoke(catalog.function("MarkRideFailed").function_name, json.dumps(late))
    assert refused.function_error == "Unhandled" and refused.json()["errorType"] == "RideOwnerConflict"
    assert (fleet.item("Rides", ride_id="r-1"), fleet.item("Cars", car_id=car)) == before

    complete(fleet, "r-1")
    assert finish(fleet, redriven.execution_arn).output["outcome"] == "TripCompleted"
