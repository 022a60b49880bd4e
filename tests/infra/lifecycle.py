"""The fleet's whole lifecycle through the REST API on an in-process local cloud, every function
on each of its paths (successes, named outcomes, operational failures into the DLQ, the DLQ listed
and redriven): what `test_least_privilege.py` records the functions' AWS calls over."""

from __future__ import annotations

import json
import time
from typing import Any

from werkzeug.test import Client

from workflows.local.api_gateway import ApiGateway
from workflows.local.cloud import LocalCloud
from workflows.local.faults import FaultRule, Faults

BERLIN = {"lat": 52.52, "lon": 13.405}
BROKEN_VIN = "5YJ3E1EA7KF317002"  # InspectCar never answers: register's DLQ path
ROUTE_FAILS = "ride-route-fails"
NOWHERE = {"lat": 52.53, "lon": 13.41}  # PlanRoute never answers for this pickup: dispatch's DLQ path


def vin(n: int) -> str:
    return f"LFCYCLE{n:010d}"  # 17 characters of the VIN alphabet


def faults() -> Faults:
    return Faults({
        "InspectCar": [FaultRule(error="TransientInspectionError", match={"vin": BROKEN_VIN})],
        "PlanRoute": [FaultRule(error="RouteServiceUnavailable", match={"pickup": NOWHERE})],
        # The first road test breaks the rig (not retried): maintenance's DLQ path.
        "RoadTest": [FaultRule(error="RoadTestRigBroken", first=1)],
    })


class Api:
    def __init__(self, cloud: LocalCloud):
        self.client = Client(ApiGateway(cloud.runtime))

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        response = self.client.open(path, method=method, json=body, headers=headers)
        text = response.get_data(as_text=True)
        return response.status_code, json.loads(text) if text else None


def _until(check: Any, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out waiting for the lifecycle step")


def exercise(cloud: LocalCloud) -> dict[str, Any]:
    """Drives every workflow path through the API; returns what it saw, for the test's asserts."""
    api = Api(cloud)
    seen: dict[str, Any] = {}
    cars = []
    for n in range(3):
        status, body = api.call("POST", "/cars?wait=20", {"vin": vin(n), "model": "Robotaxi S", "year": 2024, "seats": 4,
                                                          "location": {"lat": BERLIN["lat"] + n * 0.001, "lon": BERLIN["lon"]},
                                                          "battery_pct": 90}, **{"Idempotency-Key": f"register-{n}"})
        assert status == 201, body
        cars.append(body["car_id"])
    status, body = api.call("POST", "/cars?wait=20", {"vin": vin(0), "model": "Robotaxi S", "year": 2024, "seats": 4})
    assert status == 409, body  # CarAlreadyRegistered
    status, body = api.call("POST", "/cars?wait=20", {"vin": vin(9), "model": "Robotaxi S", "year": 2024, "seats": 4,
                                                      "battery_pct": 3})
    seen["failed_inspection"] = (status, body)
    status, body = api.call("POST", "/cars?wait=20", {"vin": BROKEN_VIN, "model": "Robotaxi S", "year": 2024, "seats": 4})
    assert status == 502, body
    api.call("GET", "/cars?status=AVAILABLE")
    api.call("GET", f"/cars/{cars[0]}")

    # A ride, its trip completed; a ride whose route cannot be planned (DLQ).
    status, body = api.call("POST", "/rides", {"ride_id": "ride-lifecycle-1", "pickup": {"lat": 52.515, "lon": 13.40},
                                               "dropoff": {"lat": 52.50, "lon": 13.35}, "passengers": 2})
    assert status == 202, body
    _until(lambda: (api.call("GET", "/rides/ride-lifecycle-1")[1] or {}).get("status") == "ON_TRIP")
    # 409 until the engine waits on the trip's token.
    _until(lambda: api.call("POST", "/rides/ride-lifecycle-1/complete", {"odometer_km": 120, "battery_pct": 80})[0] == 200)
    status, body = api.call("POST", "/rides", {"ride_id": ROUTE_FAILS, "pickup": NOWHERE,
                                               "dropoff": {"lat": 52.50, "lon": 13.35}, "passengers": 2})
    assert status == 202, body
    seen["route_fails"] = cloud.wait(body["execution_arn"])["status"]
    api.call("GET", f"/executions/{body['execution_arn'].rsplit(':', 1)[-1]}")

    # Executions stopped while they wait: ReleaseStranded releases the ride, the job and their cars.
    sfn = cloud.client("stepfunctions")
    status, body = api.call("POST", "/rides", {"ride_id": "ride-lifecycle-2", "pickup": {"lat": 52.515, "lon": 13.40},
                                               "dropoff": {"lat": 52.50, "lon": 13.35}, "passengers": 2})
    _until(lambda: (api.call("GET", "/rides/ride-lifecycle-2")[1] or {}).get("status") == "ON_TRIP")
    sfn.stop_execution(executionArn=body["execution_arn"], error="Stopped", cause="lifecycle")
    status, body = api.call("POST", f"/cars/{cars[0]}/maintenance", {"reason": "inspection"})
    job = body["job_id"]
    _until(lambda: (api.call("GET", f"/maintenance/{job}")[1] or {}).get("status") == "AWAITING_SIGN_OFF")
    sfn.stop_execution(executionArn=body["execution_arn"], error="Stopped", cause="lifecycle")
    cloud.runtime.wait_for_async(10)
    seen["released"] = ((api.call("GET", "/rides/ride-lifecycle-2")[1] or {}).get("status"),
                        (api.call("GET", f"/maintenance/{job}")[1] or {}).get("status"))

    # Maintenance, one after the other: a road test that fails (DLQ), a car back in service, one retired.
    for car, passed in ((cars[1], True), (cars[2], True), (cars[0], False)):
        status, body = api.call("POST", f"/cars/{car}/maintenance", {"reason": "scheduled service"})
        assert status == 202, body
        job, arn = body["job_id"], body["execution_arn"]
        _until(lambda job=job: (api.call("GET", f"/maintenance/{job}")[1] or {}).get("status") == "AWAITING_SIGN_OFF")
        _until(lambda job=job, passed=passed: api.call("POST", f"/maintenance/{job}/sign-off",
                                                       {"technician": "ann", "passed": passed})[0] == 200)
        seen.setdefault("maintenance", []).append(cloud.wait(arn)["status"])
        api.call("GET", f"/executions/{arn.rsplit(':', 1)[-1]}")

    # The DLQ: listed, the queue swept (every message has its failure: kept), then redriven.
    status, body = api.call("GET", "/dlq")
    assert status == 200, body
    seen["dlq"] = body
    status, body = api.call("POST", "/dlq/sweep", {})
    assert status == 200 and body["kept"] == len(seen["dlq"]["messages"]) and body["recorded"] == 0, body
    status, body = api.call("POST", "/dlq/redrive", {"all": True})
    seen["redrive"] = (status, body)
    return seen
