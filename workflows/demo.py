"""`fleet demo`: a fleet registered in a throwaway local cloud, every path of the workflow shown.

Runs on a virtual clock, so retry backoff costs no wall time. The transient and the persistent
inspection failures are injected with the same fault injection `fleet up --faults` uses.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from workflows import catalog, client, render
from workflows.catalog import Ref
from workflows.local.cloud import LocalCloud, resolve
from workflows.local.faults import FaultRule, Faults

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


def run_demo() -> int:
    wall = time.perf_counter()
    register = catalog.workflow("register")
    with LocalCloud(virtual_time=True, fault_hook=DEMO_FAULTS) as cloud:
        sfn = cloud.client("stepfunctions")

        def register_car(car: DemoCar) -> tuple[DemoCar, client.ExecutionResult]:
            arn = cloud.start_execution("register", car.request, client.execution_name(register, car.request))
            return car, client.describe(sfn, arn, cloud.wait(arn))

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

        dlq_url = resolve(Ref("queue", "Dlq", "url"))
        messages = cloud.client("sqs").receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        dlq = [json.loads(m["Body"]) for m in messages]
        render.table("dead-letter queue", ["execution", "failed state", "error", "cause"], [
            (m["execution_name"], m["failed_state"], m["error"], render.short_cause(m["cause"])) for m in dlq
        ])
    render.console.print(f"done in {time.perf_counter() - wall:.1f} s wall time")
    return 0
