"""`fleet demo`: a fleet registered in a throwaway local cloud, every path of the workflow shown,
then the rest of the lifecycle: rides dispatched concurrently, their trips completed by the cars,
one car sent to maintenance and signed off by its technician.

Runs on a virtual clock, so retry backoff costs no wall time. The transient and the persistent
inspection failures are injected with the same fault injection `fleet up --faults` uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workflows.cli import render
from workflows.definitions import catalog
from workflows.local.cloud import LocalCloud
from workflows.local.faults import FaultRule, Faults
from workflows.targets import stepfunctions

FLAKY_VIN = "5YJ3E1EA7KF317001"  # its telemetry link drops twice, then answers
BROKEN_VIN = "5YJ3E1EA7KF317002"  # its telemetry link never answers


@dataclass
class DemoCar:
    label: str
    request: dict


FLEET = [
    DemoCar("robotaxi", {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
                         "location": {"lat": 52.5200, "lon": 13.4050}, "battery_pct": 88}),
    DemoCar("shuttle", {"vin": "WVWZZZ1JZXW000001", "model": "People Mover", "year": 2025, "seats": 8,
                        "location": {"lat": 52.5163, "lon": 13.3777}, "battery_pct": 95}),
    DemoCar("compact", {"vin": "JH4KA7561PC008269", "model": "City Pod", "year": 2023, "seats": 2,
                        "location": {"lat": 52.5076, "lon": 13.3904}, "battery_pct": 71}),
    DemoCar("flaky telemetry", {"vin": FLAKY_VIN, "model": "Robotaxi S", "year": 2024, "seats": 4}),
    DemoCar("dead telemetry", {"vin": BROKEN_VIN, "model": "Robotaxi S", "year": 2024, "seats": 4}),
    DemoCar("low battery", {"vin": "2T1BURHE0JC043821", "model": "City Pod", "year": 2022, "seats": 2, "battery_pct": 9}),
    DemoCar("invalid VIN", {"vin": "NOT-A-VIN", "model": "Robotaxi S", "year": 2024, "seats": 4}),
    DemoCar("invalid year", {"vin": "3VWFE21C04M000001", "model": "Vintage", "year": 1999, "seats": 4}),
]
DUPLICATE = DemoCar("duplicate", {"vin": "1HGCM82633A004352", "model": "Robotaxi S (again)", "year": 2024, "seats": 4})

DEMO_FAULTS = Faults({
    "InspectCar": [
        FaultRule(error="TransientInspectionError", message="telemetry link timed out", first=2, match={"vin": FLAKY_VIN}),
        FaultRule(error="TransientInspectionError", message="telemetry link timed out", match={"vin": BROKEN_VIN}),
    ],
}, seed=1)


def run_demo(faults: Faults | None = None) -> int:
    """`faults`: a faults file's rules, injected on top of the demo's own."""
    wall = time.perf_counter()
    register = catalog.workflow("register")
    with LocalCloud(virtual_time=True, fault_hook=DEMO_FAULTS.plus(faults)) as cloud:
        sfn = cloud.client("stepfunctions")

        def register_car(car: DemoCar) -> tuple[DemoCar, stepfunctions.ExecutionResult]:
            arn = cloud.start_execution("register", car.request, stepfunctions.execution_name(register, car.request))
            return car, stepfunctions.describe(sfn, arn, cloud.wait(arn))

        # One at a time, so each duration is the execution's own (the virtual clock is shared).
        results = [register_car(car) for car in FLEET]
        results.append(register_car(DUPLICATE))  # after the original, so it collides

        render.console.print("[bold]Registering a fleet[/] (in-process local cloud; durations on its virtual clock)\n")
        render.table("executions", ["car", "vin", "status", "outcome", "states", "retries", "duration"], [
            (car.label, car.request["vin"], render.status(r.status), r.outcome, len(r.visits), r.retries,
             f"{r.duration_ms:.0f} ms")
            for car, r in results
        ])
        for car, r in results:
            render.console.print(f"  {car.label:16} {render.states_line(r)}", markup=False)

        items = cloud.client("dynamodb").scan(TableName=catalog.table("Cars").table_name)["Items"]
        render.table("fleet (DynamoDB)", ["car_id", "model", "status", "version", "battery %"], sorted(
            (i["car_id"]["S"], i["model"]["S"], i["status"]["S"], i["version"]["N"], i["battery_pct"]["N"]) for i in items
        ))

        from fleet_domain.data.failures import FailureRepository

        # The DLQ's failures as operators see them: the Failures table, every one (the queue delivers them).
        failures = FailureRepository(cloud.client("dynamodb"), catalog.table("Failures").table_name).unresolved()
        render.table("dead-letter queue", ["execution", "failed state", "error", "cause"], [
            (f.execution_name, f.failed_state, f.error, render.short_cause(f.cause or "")) for f in failures
        ])
        run_lifecycle(cloud)

        from pathlib import Path

        from workflows.trace.html import write_traces

        # one graph page per execution, and where they are
        write_traces(sfn, Path("traces"), say=lambda line: render.console.print(line, markup=False))
    render.console.print(f"done in {time.perf_counter() - wall:.1f} s wall time")
    return 0


# --- the rest of the lifecycle: dispatch and maintenance ---------------------------------------

RIDES = [  # (ride_id, passengers, pickup, dropoff): Berlin
    ("ride-alex", 2, (52.5219, 13.4132), (52.5096, 13.3759)),
    ("ride-zoo", 1, (52.5074, 13.3326), (52.5163, 13.3777)),
    ("ride-group", 6, (52.5200, 13.4050), (52.4750, 13.4400)),  # only the shuttle seats six
    ("ride-east", 3, (52.5050, 13.4500), (52.5300, 13.4100)),
    ("ride-late", 2, (52.4990, 13.4190), (52.5400, 13.3600)),
    ("ride-bus", 9, (52.5250, 13.3690), (52.5100, 13.4000)),  # no car seats nine: rejected
]


def run_lifecycle(cloud: LocalCloud) -> None:
    """Dispatch rides concurrently while the cars complete their trips, then maintain one car."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from fleet_domain.control import resume
    from fleet_domain.data.cars import CarRepository
    from fleet_domain.data.jobs import MaintenanceJobRepository
    from fleet_domain.data.rides import RideRepository

    sfn, ddb = cloud.client("stepfunctions"), cloud.client("dynamodb")
    tables = {t.logical_id: t.table_name for t in catalog.TABLES}
    rides_repo = RideRepository(ddb, rides_table=tables["Rides"], cars_table=tables["Cars"])
    dispatch = catalog.workflow("dispatch")
    stop = threading.Event()

    def cars_drive() -> None:
        """Each car on a trip sends a heartbeat, drives, and reports the end of the trip."""
        done: set[str] = set()
        while not stop.is_set():
            for r in rides_repo.all():
                if not r.waiting or r.ride_id in done:
                    continue
                try:
                    resume.heartbeat_trip(sfn, ddb, r.ride_id, rides_table=tables["Rides"])
                    car = CarRepository(ddb, cars_table=tables["Cars"]).get(r.car_id or "")
                    driven = int(-(-(r.route.distance_km if r.route else 1) // 1))
                    resume.complete_trip(sfn, ddb, r.ride_id, odometer_km=car.odometer_km + driven if car else None,
                                         battery_pct=round(car.battery_pct - driven * 0.25, 1) if car else None,
                                         rides_table=tables["Rides"], cars_table=tables["Cars"])
                    done.add(r.ride_id)
                except resume.NotWaiting:
                    pass  # not under way yet: next round
                except Exception:  # noqa: BLE001 - the engine was busy (moto answers 500 at times): next round
                    pass
            stop.wait(0.01)

    def dispatch_ride(spec: tuple) -> tuple[str, stepfunctions.ExecutionResult]:
        ride_id, passengers, pickup, dropoff = spec
        request = {"ride_id": ride_id, "passengers": passengers, "pickup": {"lat": pickup[0], "lon": pickup[1]},
                   "dropoff": {"lat": dropoff[0], "lon": dropoff[1]}}
        arn = cloud.start_execution("dispatch", request, stepfunctions.execution_name(dispatch, request))
        return ride_id, stepfunctions.describe(sfn, arn, cloud.wait(arn, 60))

    driver = threading.Thread(target=cars_drive, name="demo-cars", daemon=True)
    driver.start()
    try:
        with ThreadPoolExecutor(max_workers=len(RIDES)) as pool:
            rides = list(pool.map(dispatch_ride, RIDES))
    finally:
        stop.set()
        driver.join(timeout=10)

    render.console.print("\n[bold]Dispatching rides[/] (all at once; each car completes its trip as it ends)\n")
    render.table("dispatch executions", ["ride", "status", "outcome", "car", "km", "states", "retries"], [
        (ride_id, render.status(r.status), r.outcome, (r.output or {}).get("car_id", ""),
         (r.output or {}).get("distance_km", ""), len(r.visits), r.retries)
        for ride_id, r in rides
    ])
    for ride_id, r in rides:
        render.console.print(f"  {ride_id:12} {render.states_line(r)}", markup=False)

    # One car goes to the workshop: diagnosed, parts and technician booked, checks run, signed off.
    cars = CarRepository(ddb, cars_table=tables["Cars"])
    workshop_car = next(c for c in cars.available() if c.model == "City Pod") if any(
        c.model == "City Pod" for c in cars.available()) else cars.available()[0]
    maintenance = catalog.workflow("maintenance")
    request = {"car_id": workshop_car.car_id, "reason": "scheduled service"}
    arn = cloud.start_execution("maintenance", request, stepfunctions.execution_name(maintenance, request))
    jobs = MaintenanceJobRepository(ddb, jobs_table=tables["MaintenanceJobs"])
    job = None
    deadline = time.monotonic() + 30
    while job is None and time.monotonic() < deadline:
        job = next((j for j in jobs.for_car(workshop_car.car_id) if j.waiting), None)
        time.sleep(0.01)
    render.console.print(f"\n[bold]Maintenance[/] of {workshop_car.car_id} ({workshop_car.model})\n")
    if job is not None:
        render.console.print(f"  job {job.job_id}: {job.status.value}, technician {job.technician['technician']}, "
                             f"checks " + ", ".join(f"{c['check']} {'ok' if c['passed'] else 'FAILED'} ({c['reading']})"
                                                  for c in job.checks or []), markup=False)
        resume.sign_off(sfn, ddb, job.job_id, True, "all checks done, brake pads replaced",
                        jobs_table=tables["MaintenanceJobs"])
        render.console.print(f"  signed off by {job.technician['technician']}", markup=False)
    result = stepfunctions.describe(sfn, arn, cloud.wait(arn, 60))
    render.console.print(f"  {render.status(result.status)} {result.outcome}")
    render.console.print(f"  {render.states_line(result)}", markup=False)

    render.table("fleet after the day (DynamoDB)", ["car_id", "model", "status", "version", "battery %", "odometer km",
                                                    "last ride"], [
        (c.car_id, c.model, render.status(c.status.value), c.version, f"{c.battery_pct:g}", c.odometer_km,
         c.last_ride_id or "")
        for c in cars.all()
    ])
    time.sleep(0.2)  # the audit consumer runs asynchronously, as on AWS
    from fleet_domain.data.car_history import CarHistoryRepository

    history = CarHistoryRepository(ddb, car_history_table=tables["CarHistory"]).history(workshop_car.car_id)
    render.table(f"history of {workshop_car.car_id}", ["version", "status", "reason"], [
        (h.version, h.status.value, h.reason or "") for h in history
    ])
