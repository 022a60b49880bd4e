"""A trip's completion either commits or is refused: reported around the heartbeat deadline, the
caller is never told "completed" for a ride that then fails as CarHeartbeatLost, nor refused for
one that completes. The claim of the report on the ride and the wait's end (EndTripWait) are
conditional writes on the same item, so exactly one of them wins."""

from __future__ import annotations

import json
import threading

from fleet_domain.control import resume

from .fleet_steps import CARS, RIDES, car_request, register, ride, wait_until_waiting

TRIALS = 8  # the 100-trial run is `make bench` (bench/dispatch.py)


def run_out(fleet, arn: str) -> dict:
    """The execution's end, the virtual clock kept moving until it ends: the wait re-arms after a
    heartbeat, and a step retried after a slow attempt waits out its backoff on the same clock."""
    for _ in range(20):
        if fleet.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            break
        fleet.cloud.clock.advance(601)
    return fleet.cloud.wait(arn)


def race(fleet, ride_id: str) -> tuple[str, str]:
    """(what the caller was told, how the execution ended) for a report sent as the heartbeat runs out."""
    arn = fleet.start("dispatch", ride(ride_id))
    wait_until_waiting(fleet, ride_id)
    told: list[str] = []

    def report() -> None:
        try:
            resume.complete_trip(fleet.sfn, fleet.ddb, ride_id, rides_table=RIDES, cars_table=CARS)
            told.append("completed")
        except resume.NotWaiting:
            told.append("refused")

    caller = threading.Thread(target=report)
    caller.start()
    fleet.cloud.clock.advance(601)  # HeartbeatSeconds is 600: the deadline passes as the report arrives
    caller.join()
    desc = run_out(fleet, arn)
    ended = json.loads(desc["output"])["outcome"] if desc["status"] == "SUCCEEDED" else desc.get("error", desc["status"])
    return told[0], ended


def test_a_report_at_the_heartbeat_deadline_commits_or_is_refused(fleet):
    register(fleet, *(car_request(n) for n in range(TRIALS)))
    outcomes = [race(fleet, f"r-race-{n}") for n in range(TRIALS)]
    consistent = {("completed", "TripCompleted"), ("refused", "CarHeartbeatLost")}
    assert [o for o in outcomes if o not in consistent] == [], outcomes
    for n, (told, _) in enumerate(outcomes):
        assert fleet.item("Rides", ride_id=f"r-race-{n}")["status"] == ("COMPLETED" if told == "completed" else "FAILED")


def test_a_report_claimed_before_the_wait_ran_out_is_committed(fleet):
    """The claim won (the caller was told "completed") but its answer had not reached Step
    Functions when the heartbeat ran out: the wait's end completes the trip with the claimed report."""
    from fleet_domain.data.rides import RideRepository

    [car] = register(fleet, car_request(1))
    arn = fleet.start("dispatch", ride("r-1"))
    wait_until_waiting(fleet, "r-1")
    rides = RideRepository(fleet.ddb, rides_table=RIDES, cars_table=CARS)
    waiting = rides.get("r-1")
    assert waiting is not None and waiting.task_token is not None
    token = waiting.task_token
    odometer = fleet.item("Cars", car_id=car)["odometer_km"] + 42
    assert rides.claim_trip_report("r-1", token, {"odometer_km": odometer, "reported_at": "2026-01-01T00:00:00Z"},
                                   "2026-01-01T00:00:00Z")
    fleet.cloud.clock.advance(601)
    desc = run_out(fleet, arn)
    assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"])["outcome"] == "TripCompleted", desc
    assert fleet.item("Rides", ride_id="r-1")["status"] == "COMPLETED"
    assert fleet.item("Cars", car_id=car)["odometer_km"] == odometer
    states = [e["stateEnteredEventDetails"]["name"] for e in fleet.sfn.get_execution_history(executionArn=arn)["events"]
              if "stateEnteredEventDetails" in e]
    assert states[states.index("StartTrip") + 1:states.index("CompleteTrip")] == ["EndTripWait", "TripReportClaimed"]
