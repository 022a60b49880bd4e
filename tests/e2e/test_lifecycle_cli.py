"""The lifecycle commands as a user runs them against `fleet up`: dispatch a ride, complete its
trip, maintain a car and sign it off, list the fleet, look at one car; resuming something that is
not waiting is one line and exit 1."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.test_cli import fleet
from tests.servers import fleet_up

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4, "battery_pct": 80}
CAR_ID = "car-1HGCM82633A004352"
RIDE = {"ride_id": "r-cli", "pickup": {"lat": 52.515, "lon": 13.40}, "dropoff": {"lat": 52.50, "lon": 13.35},
        "passengers": 2}


@pytest.fixture(scope="module")
def endpoint():
    up = fleet_up()
    yield up.aws_endpoint
    assert up.stop() == 0


def run(endpoint: str, *args: str):
    return fleet(*args, "--endpoint-url", endpoint)


def until(check, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError("condition not met")


def test_the_lifecycle_from_the_command_line(endpoint):
    assert run(endpoint, "run", "register", "--input", json.dumps(CAR)).returncode == 0

    started = run(endpoint, "run", "dispatch", "--input", json.dumps(RIDE), "--no-wait")
    assert started.returncode == 0, started.stderr
    until(lambda: "ON_TRIP" in run(endpoint, "cars", "--status", "ON_TRIP").stdout)

    done = run(endpoint, "trip", "complete", "r-cli", "--odometer-km", "12", "--battery-pct", "71.5", "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TripCompleted" in done.stdout and "SUCCEEDED" in done.stdout

    again = run(endpoint, "trip", "complete", "r-cli")
    assert again.returncode == 1
    assert again.stderr.strip() == ("fleet: ride r-cli is COMPLETED, not waiting for its trip to complete "
                                    "(its completion was already reported)")
    assert again.stdout == ""

    maintenance = run(endpoint, "run", "maintenance", "--input", json.dumps({"car_id": CAR_ID, "reason": "service"}),
                      "--no-wait")
    job_id = maintenance.stdout.strip().rsplit(":", 1)[-1]
    until(lambda: "AWAITING_SIGN_OFF" in run(endpoint, "car", CAR_ID).stdout)
    signed = run(endpoint, "maintenance", "sign-off", job_id, "--passed", "--notes", "ok", "--wait")
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert "BackInService" in signed.stdout

    twice = run(endpoint, "maintenance", "sign-off", job_id, "--failed")
    assert (twice.returncode, twice.stderr.strip()) == (
        1, f"fleet: maintenance job {job_id} is COMPLETED, not waiting for a sign-off")

    car = run(endpoint, "car", CAR_ID)
    assert car.returncode == 0
    for status in ("REGISTERING", "RESERVED", "ON_TRIP", "IN_MAINTENANCE"):
        assert status in car.stdout
    # The audit history catches up asynchronously: every one of the car's seven versions.
    until(lambda: "history (7 of 7 versions)" in run(endpoint, "car", CAR_ID).stdout)
    cars = run(endpoint, "cars", "--status", "available")
    assert CAR_ID in cars.stdout and "cars AVAILABLE (1)" in cars.stdout


@pytest.mark.parametrize("args, code, message", [
    (("trip", "complete", "r-nope"), 3, "fleet: no ride r-nope"),
    (("trip", "heartbeat", "r-nope"), 3, "fleet: no ride r-nope"),
    (("maintenance", "sign-off", "job-nope", "--passed"), 3, "fleet: no maintenance job job-nope"),
    (("trip", "complete", "r-cli", "--battery-pct", "101"), 2, "fleet: battery_pct must be between 0 and 100"),
    (("car", "car-NOPE"), 3, "fleet: no car car-NOPE (see `fleet cars`)"),
    (("cars", "--status", "PARKED"), 2, "fleet: --status must be one of"),
])
def test_what_cannot_be_done_is_one_line(endpoint, args, code, message):
    proc = run(endpoint, *args)
    assert proc.returncode == code
    assert proc.stderr.strip().startswith(message) and "\n" not in proc.stderr.strip()


def test_sign_off_needs_a_verdict(endpoint):
    proc = run(endpoint, "maintenance", "sign-off", "job-1")
    assert proc.returncode == 2 and "--passed" in proc.stderr
