"""Invariants over the whole tables, checked after every workflow test (tests/workflows/conftest.py).

- every car's status is a CarStatus, every ride's a RideStatus, every job's a JobStatus;
- each car's audit history is complete and in order: versions 1..version with no gap, the first
  REGISTERING, each change legal from the one before (fleet_domain.rules.transitions.is_legal) and naming
  it as previous_status, the last one the car's current status and version;
- who holds a car agrees on both sides: a RESERVED or ON_TRIP car names an active ride (an
  ON_TRIP car's ride is ON_TRIP with that car), an ON_TRIP ride's car is ON_TRIP for it, so no
  car is in two active rides; an IN_MAINTENANCE car names an active job of its own, an active job's
  car is IN_MAINTENANCE for it, so no car has two open jobs.

The audit consumer runs asynchronously (EventBridge -> RecordCarEvent, as on AWS), so the history
is read with a bounded poll until it has caught up with the Cars table.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from fleet_domain.models.car import CarStatus
from fleet_domain.models.maintenance import ACTIVE_JOB_STATUSES, JobStatus
from fleet_domain.models.ride import ACTIVE_RIDE_STATUSES, RideStatus
from fleet_domain.rules.transitions import is_legal

HISTORY_DRAIN_S = 10.0  # generous: the consumer is asynchronous and the machine may be busy


def check(fleet: Any, drain_s: float = HISTORY_DRAIN_S) -> None:
    """Assert every invariant; one AssertionError listing every violation found."""
    problems: list[str] = []
    cars = {c["car_id"]: c for c in fleet.items("Cars")}
    rides = {r["ride_id"]: r for r in fleet.items("Rides")}
    jobs = {j["job_id"]: j for j in fleet.items("MaintenanceJobs")}
    problems += _statuses(cars, rides, jobs)
    problems += _history(fleet, cars, drain_s)
    problems += _holders(cars, rides, jobs)
    assert not problems, "invariants violated:\n  " + "\n  ".join(problems)


def _statuses(cars: dict, rides: dict, jobs: dict) -> list[str]:
    problems = []
    for kind, items, enum in (("car", cars, CarStatus), ("ride", rides, RideStatus), ("job", jobs, JobStatus)):
        known = {s.value for s in enum}
        problems += [f"{kind} {key} has status {item.get('status')!r}" for key, item in items.items()
                     if item.get("status") not in known]
    return problems


def history_by_car(fleet: Any) -> dict[str, list[dict]]:
    by_car: dict[str, list[dict]] = defaultdict(list)
    for h in fleet.items("CarHistory"):
        by_car[h["car_id"]].append(h)
    return {car_id: sorted(hs, key=lambda h: h["version"]) for car_id, hs in by_car.items()}


def drained_history(fleet: Any, cars: dict | None = None, drain_s: float = HISTORY_DRAIN_S) -> dict[str, list[dict]]:
    """Each car's history once the asynchronous audit consumer has caught up with the Cars table
    (or the time is up: then as far as it got)."""
    cars = cars if cars is not None else {c["car_id"]: c for c in fleet.items("Cars")}
    deadline = time.monotonic() + drain_s
    # The events already published are delivered first: reading the history while the consumer
    # still starts (a cold start) would race it for the table (and for a fault injected on it).
    fleet.cloud.runtime.wait_for_async(drain_s)
    while True:
        history = history_by_car(fleet)
        behind = [car_id for car_id, car in cars.items()
                  if len(history.get(car_id, [])) < int(car["version"])]
        if not behind or time.monotonic() > deadline:
            return history
        time.sleep(0.02)


def _history(fleet: Any, cars: dict, drain_s: float) -> list[str]:
    history = drained_history(fleet, cars, drain_s)
    problems = []
    for car_id, car in sorted(cars.items()):
        events = history.get(car_id, [])
        versions = [int(e["version"]) for e in events]
        if versions != list(range(1, int(car["version"]) + 1)):
            problems.append(f"{car_id}: history versions {versions}, car at version {car['version']} "
                            f"(statuses {[e['status'] for e in events]})")
            continue
        previous = None
        for e in events:
            if e.get("previous_status") != previous:
                problems.append(f"{car_id} v{e['version']}: previous_status {e.get('previous_status')!r}, "
                                f"history says {previous!r}")
            if not is_legal(previous, e["status"]):
                problems.append(f"{car_id} v{e['version']}: {previous} -> {e['status']} is not a legal transition")
            previous = e["status"]
        if previous != car["status"]:
            problems.append(f"{car_id}: history ends {previous}, car is {car['status']}")
    for car_id in sorted(set(history) - set(cars)):
        problems.append(f"history of {car_id}, which is not in the Cars table")
    return problems


def _holders(cars: dict, rides: dict, jobs: dict) -> list[str]:
    problems = []
    active_rides = {k for k, r in rides.items() if r.get("status") in {s.value for s in ACTIVE_RIDE_STATUSES}}
    on_trip_by_car = Counter(r.get("car_id") for r in rides.values() if r.get("status") == RideStatus.ON_TRIP.value)
    for car_id, n in on_trip_by_car.items():
        if n > 1:
            problems.append(f"{car_id} is on {n} trips at once")
    for car_id, car in cars.items():
        status, ride_id, job_id = car["status"], car.get("ride_id"), car.get("job_id")
        if status in (CarStatus.RESERVED.value, CarStatus.ON_TRIP.value):
            if ride_id not in active_rides:
                problems.append(f"{car_id} is {status} for ride {ride_id}, which is not active "
                                f"({rides.get(ride_id, {}).get('status')})")
            elif status == CarStatus.ON_TRIP.value and (rides[ride_id]["status"] != RideStatus.ON_TRIP.value
                                                        or rides[ride_id].get("car_id") != car_id):
                problems.append(f"{car_id} is ON_TRIP for ride {ride_id}, which is {rides[ride_id]['status']} "
                                f"with car {rides[ride_id].get('car_id')}")
        elif ride_id is not None:
            problems.append(f"{car_id} is {status} but still held by ride {ride_id}")
        if status == CarStatus.IN_MAINTENANCE.value:
            job = jobs.get(job_id or "")
            if job is None or job["status"] not in {s.value for s in ACTIVE_JOB_STATUSES} or job["car_id"] != car_id:
                problems.append(f"{car_id} is IN_MAINTENANCE for job {job_id}, which is "
                                f"{job['status'] if job else 'missing'}")
        elif job_id is not None:
            problems.append(f"{car_id} is {status} but still held by job {job_id}")
    for ride_id, ride in rides.items():
        if ride.get("status") == RideStatus.ON_TRIP.value:
            car = cars.get(ride.get("car_id") or "", {})
            if car.get("status") != CarStatus.ON_TRIP.value or car.get("ride_id") != ride_id:
                problems.append(f"ride {ride_id} is ON_TRIP with {ride.get('car_id')}, which is "
                                f"{car.get('status')} for ride {car.get('ride_id')}")
    open_jobs = Counter(j["car_id"] for j in jobs.values() if j["status"] in {s.value for s in ACTIVE_JOB_STATUSES})
    for car_id, n in open_jobs.items():
        if n > 1:
            problems.append(f"{car_id} has {n} open maintenance jobs")
    for job_id, job in jobs.items():
        if job["status"] in {s.value for s in ACTIVE_JOB_STATUSES}:
            car = cars.get(job["car_id"], {})
            if car.get("status") != CarStatus.IN_MAINTENANCE.value or car.get("job_id") != job_id:
                problems.append(f"job {job_id} is {job['status']} but car {job['car_id']} is {car.get('status')} "
                                f"for job {car.get('job_id')}")
    return problems
