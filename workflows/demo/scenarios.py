"""Representative runs of each workflow on a local cloud, end to end: a car registered, a ride
dispatched and its trip completed by the car, a car maintained and signed off by its technician.

Used by the cost model's sample (`fleet cost` without --execution) and by the benchmarks
(bench/). The car's and the technician's side go through fleet_domain.control.resume, the same code as
the CLI and the REST API.

    with LocalCloud(virtual_time=True) as cloud:
        runs = Scenarios(cloud)
        arn = runs.register()       # one new car, waited for
        arn = runs.dispatch()       # one ride, trip completed, waited for
        arn = runs.maintenance()    # one car maintained and signed off, waited for
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from workflows.definitions import catalog
from workflows.local.cloud import LocalCloud
from workflows.targets import stepfunctions

BERLIN = (52.52, 13.405)


def vin(n: int, prefix: str = "SMPLCAR") -> str:
    """A valid VIN (17 characters of the VIN alphabet) for car number n."""
    return f"{prefix}{n:0{17 - len(prefix)}d}"


def car_request(n: int, prefix: str = "SMPLCAR", **overrides: Any) -> dict:
    return {"vin": vin(n, prefix), "model": "Robotaxi S", "year": 2024, "seats": 4,
            "location": {"lat": round(BERLIN[0] + (n % 50) * 0.001, 6), "lon": BERLIN[1]}, "battery_pct": 90,
            **overrides}


class Scenarios:
    """Runs one execution of a workflow at a time, start to end, on `cloud`."""

    def __init__(self, cloud: LocalCloud, prefix: str = "SMPLCAR", timeout_s: float = 60.0):
        self.cloud = cloud
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.sfn = cloud.client("stepfunctions")
        self.ddb = cloud.client("dynamodb")
        self.tables = {t.logical_id: t.table_name for t in catalog.TABLES}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._fleet: list[str] = []  # cars registered for rides (AVAILABLE between rides)

    def next_number(self) -> int:
        with self._lock:
            return next(self._numbers)

    # --- register -------------------------------------------------------------------------

    def start_register(self, n: int | None = None, **overrides: Any) -> str:
        request = car_request(self.next_number() if n is None else n, self.prefix, **overrides)
        sm = catalog.workflow("register")
        return self.cloud.start_execution("register", request, stepfunctions.execution_name(sm, request))

    def register(self, **overrides: Any) -> str:
        arn = self.start_register(**overrides)
        self._end(arn)
        return arn

    def car_id_of(self, arn: str) -> str:
        desc = self.sfn.describe_execution(executionArn=arn)
        return json.loads(desc["output"])["car_id"]

    # --- dispatch with the trip completed ------------------------------------------------------

    def ensure_fleet(self, cars: int) -> list[str]:
        """At least `cars` registered cars near the pickup, for rides."""
        while len(self._fleet) < cars:
            self._fleet.append(self.car_id_of(self.register()))
        return self._fleet

    def dispatch(self, battery_pct: float = 90.0) -> str:
        """One ride: dispatched, its trip started, completed by the car (battery reported, so the
        fleet stays fit for the next rides), the execution waited for."""
        from fleet_domain.control import resume

        self.ensure_fleet(2)
        ride_id = f"ride-{self.prefix.lower()}-{self.next_number()}"
        request = {"ride_id": ride_id, "passengers": 2, "pickup": {"lat": 52.515, "lon": 13.40},
                   "dropoff": {"lat": 52.50, "lon": 13.35}}
        sm = catalog.workflow("dispatch")
        arn = self.cloud.start_execution("dispatch", request, stepfunctions.execution_name(sm, request))
        rides = self.tables["Rides"]
        deadline = time.monotonic() + self.timeout_s
        while True:  # until the trip waits for its completion (the engine takes a heartbeat for it)
            try:
                resume.heartbeat_trip(self.sfn, self.ddb, ride_id, rides_table=rides)
                break
            except resume.NotWaiting:
                if self._ended(arn):  # no trip to complete (no car available, a failure)
                    return arn
                if time.monotonic() > deadline:
                    raise TimeoutError(f"ride {ride_id} never waited for its trip") from None
                time.sleep(0.001)
        resume.complete_trip(self.sfn, self.ddb, ride_id, battery_pct=battery_pct, rides_table=rides,
                             cars_table=self.tables["Cars"])
        self._end(arn)
        return arn

    # --- maintenance with the sign-off --------------------------------------------------------

    def maintenance(self, passed: bool = True) -> str:
        """A newly registered car maintained: diagnosed, repaired, signed off, road-tested."""
        from fleet_domain.control import resume
        from fleet_domain.data.jobs import MaintenanceJobRepository

        car = self.car_id_of(self.register())
        request = {"car_id": car, "reason": "scheduled service"}
        sm = catalog.workflow("maintenance")
        arn = self.cloud.start_execution("maintenance", request, stepfunctions.execution_name(sm, request))
        jobs = MaintenanceJobRepository(self.ddb, jobs_table=self.tables["MaintenanceJobs"])
        deadline = time.monotonic() + self.timeout_s
        while True:
            waiting = [j for j in jobs.for_car(car) if j.waiting]
            if waiting:
                break
            if self._ended(arn):
                return arn
            if time.monotonic() > deadline:
                raise TimeoutError(f"no maintenance job of {car} awaits a sign-off")
            time.sleep(0.001)
        resume.sign_off(self.sfn, self.ddb, waiting[0].job_id, passed, "all checks done",
                        jobs_table=self.tables["MaintenanceJobs"])
        self._end(arn)
        return arn

    def run(self, workflow: str) -> str:
        return {"register": self.register, "dispatch": self.dispatch, "maintenance": self.maintenance}[
            catalog.workflow(workflow).workflow]()

    # --- plumbing -------------------------------------------------------------------------

    def _end(self, arn: str) -> dict:
        return self.cloud.wait(arn, self.timeout_s)

    def _ended(self, arn: str) -> bool:
        return self.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING"
