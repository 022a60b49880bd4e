"""Helpers for the dispatch and maintenance tests: a registered fleet, ride requests, and the
car's side of a trip (waiting for it to start, completing it) through fleet_domain.control.resume, the
same code the CLI and the API use."""

from __future__ import annotations

import threading
import time
from typing import Any

from fleet_domain.control import resume
from fleet_domain.data.rides import RideRepository
from workflows.definitions import catalog

RIDES = catalog.table("Rides").table_name
CARS = catalog.table("Cars").table_name
JOBS = catalog.table("MaintenanceJobs").table_name
BERLIN = {"lat": 52.52, "lon": 13.405}


def vin(n: int) -> str:
    return f"TESTCAR{n:010d}"  # 17 characters of the VIN alphabet


def car_id(n: int) -> str:
    return f"car-{vin(n)}"


def car_request(n: int, **overrides: Any) -> dict:
    return {"vin": vin(n), "model": "Robotaxi S", "year": 2024, "seats": 4,
            "location": {"lat": BERLIN["lat"] + n * 0.001, "lon": BERLIN["lon"]}, "battery_pct": 90,
            **overrides}


def register(fleet: Any, *requests: dict) -> list[str]:
    """Register cars concurrently; returns their car_ids (every registration must succeed)."""
    arns = [fleet.start("register", r) for r in requests]
    ids = []
    for arn in arns:
        desc = fleet.cloud.wait(arn)
        assert desc["status"] == "SUCCEEDED", desc
        import json

        out = json.loads(desc["output"])
        assert out["outcome"] == "CarRegistered", out
        ids.append(out["car_id"])
    return ids


def ride(ride_id: str, passengers: int = 2, pickup: dict | None = None, dropoff: dict | None = None) -> dict:
    return {"ride_id": ride_id, "pickup": pickup or {"lat": 52.515, "lon": 13.40},
            "dropoff": dropoff or {"lat": 52.50, "lon": 13.35}, "passengers": passengers}


def wait_until_waiting(fleet: Any, ride_id: str, timeout_s: float = 10.0) -> None:
    """Until the ride's trip waits for its completion: the token is on the ride and Step Functions
    takes a heartbeat for it (the engine has started waiting on the token)."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            resume.heartbeat_trip(fleet.sfn, fleet.ddb, ride_id, rides_table=RIDES)
            return
        except (resume.NotWaiting, ClientError):  # ClientError: moto's InternalError while executions start
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def complete(fleet: Any, ride_id: str, **report: Any) -> resume.Resumed:
    from botocore.exceptions import ClientError

    wait_until_waiting(fleet, ride_id)
    for attempt in range(20):
        try:
            return resume.complete_trip(fleet.sfn, fleet.ddb, ride_id, rides_table=RIDES, cars_table=CARS, **report)
        except ClientError:  # moto's InternalError while other executions start: the token was put back
            if attempt == 19:
                raise
            time.sleep(0.01)
    raise AssertionError("unreachable")


def wait_for_job(fleet: Any, car: str, timeout_s: float = 10.0) -> str:
    """The job_id of the car's maintenance job once it awaits its sign-off."""
    from fleet_domain.data.jobs import MaintenanceJobRepository

    jobs = MaintenanceJobRepository(fleet.ddb, jobs_table=JOBS)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waiting = [j for j in jobs.for_car(car) if j.waiting]
        if waiting:
            return waiting[0].job_id
        time.sleep(0.005)
    raise TimeoutError(f"no maintenance job of {car} awaits a sign-off")


def sign_off(fleet: Any, job_id: str, passed: bool, notes: str = "") -> resume.Resumed:
    return resume.sign_off(fleet.sfn, fleet.ddb, job_id, passed, notes, jobs_table=JOBS)


class TripCompleter:
    """The fleet's cars, in a thread: every trip that starts is completed (optionally with a report)."""

    def __init__(self, fleet: Any, **report: Any):
        self.fleet = fleet
        self.report = report
        self.completed: list[str] = []
        self.errors: list[Exception] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trip-completer", daemon=True)

    def __enter__(self) -> TripCompleter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        rides = RideRepository(self.fleet.ddb, rides_table=RIDES, cars_table=CARS)
        while not self._stop.is_set():
            for r in rides.all():
                if r.waiting and r.ride_id not in self.completed:
                    try:
                        complete(self.fleet, r.ride_id, **self.report)
                        self.completed.append(r.ride_id)
                    except Exception as exc:  # noqa: BLE001 - a car tries again; the test sees what is left
                        self.errors.append(exc)
            self._stop.wait(0.01)
