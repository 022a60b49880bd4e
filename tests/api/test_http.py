"""The REST API over real HTTP: a `fleet up` process, its API Gateway front and the FleetApi
function, with boto3 on the AWS-compatible endpoint seeing the same executions."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from tests.servers import fleet_up

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}


@pytest.fixture(scope="module")
def stack():
    up = fleet_up()
    yield up
    assert up.stop() == 0


def call(stack, method: str, path: str, body: Any = None, headers: dict | None = None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(stack.api_url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, _body(resp.read()), resp.headers  # case-insensitive, as HTTP header names are
    except urllib.error.HTTPError as err:
        return err.code, _body(err.read()), err.headers


def _body(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode()


def sfn(stack):
    return boto3.client("stepfunctions", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def assert_error(body: dict, request_id_header: str | None = None):
    assert set(body) <= {"message", "details", "request_id"} and body["message"] and body["request_id"]
    assert "Traceback" not in json.dumps(body)
    if request_id_header:
        assert body["request_id"] == request_id_header


def test_health(stack):
    assert call(stack, "GET", "/health")[:2] == (200, {"status": "ok"})


def test_register_accepted_then_followed_by_its_links(stack):
    status, body, headers = call(stack, "POST", "/cars", CAR)
    assert status == 202
    assert body["car_id"] == "car-1HGCM82633A004352" and body["status"] == "RUNNING"
    assert body["execution_arn"].startswith("arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:")
    execution_path = body["links"]["execution"]

    execution = {}
    for _ in range(100):
        _, execution, _ = call(stack, "GET", execution_path)
        if execution["status"] != "RUNNING":
            break
    assert execution["status"] == "SUCCEEDED"
    assert execution["states"][:3] == ["ValidateCar", "PersistCar", "InspectCar"]
    # The request id is the correlation id, carried into the execution's input.
    assert execution["input"]["correlation_id"] == headers["x-amzn-RequestId"]

    # The history is written by the audit consumer, asynchronously (as on AWS): read until it is there.
    deadline = time.monotonic() + 10
    while True:
        status, car, _ = call(stack, "GET", body["links"]["car"])
        if len(car.get("history", [])) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200 and car["car"]["status"] == "AVAILABLE"
    assert [h["status"] for h in car["history"]] == ["REGISTERING", "AVAILABLE"]


def test_wait_answers_201_with_the_outcome(stack):
    status, body, _ = call(stack, "POST", "/cars?wait=20", {**CAR, "vin": "JH4KA7561PC008269"})
    assert status == 201
    assert body["outcome"] == "CarRegistered" and body["status"] == "SUCCEEDED"


def test_a_retry_starts_no_second_execution_and_gets_the_first_answer(stack):
    car = {**CAR, "vin": "WVWZZZ1JZXW000001"}
    first = call(stack, "POST", "/cars?wait=20", car)
    second = call(stack, "POST", "/cars?wait=20", car)
    assert first[0] == second[0] == 201
    assert first[1]["execution_arn"] == second[1]["execution_arn"]
    machine = next(m for m in sfn(stack).list_state_machines()["stateMachines"] if m["name"] == "fleet-register-car")
    names = [e["name"] for e in sfn(stack).list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]]
    assert names.count(first[1]["execution_arn"].rsplit(":", 1)[-1]) == 1


def test_idempotency_key_replays_the_first_answer_and_refuses_a_different_body(stack):
    car = {**CAR, "vin": "2T1BURHE0JC043821"}
    key = {"Idempotency-Key": "client-retry-1"}
    first = call(stack, "POST", "/cars", car, key)
    second = call(stack, "POST", "/cars", car, key)
    assert first[0] == second[0] == 202
    assert first[1]["execution_arn"] == second[1]["execution_arn"]
    status, body, headers = call(stack, "POST", "/cars", {**car, "model": "Other"}, key)
    assert status == 422 and "Idempotency-Key" in body["message"]
    assert_error(body, headers["x-amzn-RequestId"])


def test_a_different_request_for_a_registered_car_is_a_conflict(stack):
    car = {**CAR, "vin": "3VWFE21C04M000001"}
    assert call(stack, "POST", "/cars?wait=20", car)[0] == 201
    status, body, _ = call(stack, "POST", "/cars?wait=20", {**car, "model": "Someone else's"})
    assert status == 409 and "already registered" in body["message"]
    assert_error(body)


@pytest.mark.parametrize("body, fields", [
    ({**CAR, "vin": "SHORT"}, {"vin"}),
    ({**CAR, "year": "2024"}, {"year"}),
    ({**CAR, "seats": 0}, {"seats"}),
    ({k: v for k, v in CAR.items() if k != "model"}, {"model"}),
    ({**CAR, "colour": "red"}, {"colour"}),
])
def test_invalid_body_is_422_with_the_fields_at_fault(stack, body, fields):
    status, answer, headers = call(stack, "POST", "/cars", body)
    assert status == 422
    assert {d["field"] for d in answer["details"]} == fields
    assert_error(answer, headers["x-amzn-RequestId"])


@pytest.mark.parametrize("method, path, body, raw, status", [
    ("POST", "/cars", None, b"{not json", 400),
    ("POST", "/cars", None, b"[1, 2]", 422),
    ("POST", "/cars?wait=30", CAR, None, 422),
    ("POST", "/cars?wait=abc", CAR, None, 422),
    ("GET", "/cars?status=FLYING", None, None, 422),
    ("GET", "/cars/car-NOSUCHCAR0000000", None, None, 404),
    ("GET", "/executions/register-nothing-000000000000", None, None, 404),
    ("GET", "/executions/bogus", None, None, 404),
    ("GET", "/no/such/route", None, None, 404),
    ("DELETE", "/cars", None, None, 405),
])
def test_error_codes(stack, method, path, body, raw, status):
    got, answer, _ = call(stack, method, path, body, raw=raw)
    assert got == status, answer
    assert_error(answer)


def test_oversized_request_is_refused_before_the_function(stack):
    status, body, _ = call(stack, "POST", "/cars", raw=b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413
    assert_error(body)


def test_cars_by_status(stack):
    call(stack, "POST", "/cars?wait=20", {**CAR, "vin": "5YJ3E1EA7KF317001"})
    status, body, _ = call(stack, "GET", "/cars?status=AVAILABLE&limit=100")  # one page holds them all here
    assert status == 200
    assert "car-5YJ3E1EA7KF317001" in [c["car_id"] for c in body["cars"]]
    assert all(c["status"] == "AVAILABLE" for c in body["cars"])


def test_openapi_and_swagger_ui(stack):
    status, spec, _ = call(stack, "GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/cars", "/cars/{car_id}", "/executions/{execution_id}"} <= set(spec["paths"])
    status, page, _ = call(stack, "GET", "/docs")
    assert status == 200 and "swagger" in page.lower()


def test_boto3_sees_executions_started_through_the_api(stack):
    _, body, _ = call(stack, "POST", "/cars?wait=20", {**CAR, "vin": "5YJ3E1EA7KF317009"})
    described = sfn(stack).describe_execution(executionArn=body["execution_arn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["input"])["vin"] == "5YJ3E1EA7KF317009"


def wait_for(stack, path: str, predicate, attempts: int = 200):
    import time

    body = None
    for _ in range(attempts):
        status, body, _ = call(stack, "GET", path)
        if status == 200 and predicate(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{path} never got there: {body}")


def test_the_whole_lifecycle_over_http(stack):
    vin = "5YJ3E1EA7KF317123"
    car_id = f"car-{vin}"
    assert call(stack, "POST", "/cars?wait=20", {**CAR, "vin": vin, "location": {"lat": 48.1, "lon": 11.5}})[0] == 201

    status, ride, _ = call(stack, "POST", "/rides", {"ride_id": "life-1", "pickup": {"lat": 48.1, "lon": 11.5},
                                                     "dropoff": {"lat": 48.14, "lon": 11.58}, "passengers": 2})
    assert status == 202 and ride["ride_id"] == "life-1" and ride["links"]["ride"] == "/rides/life-1"
    on_trip = wait_for(stack, "/rides/life-1", lambda r: r["status"] == "ON_TRIP")
    assert on_trip["car_id"] == car_id and on_trip.get("task_token") is None  # never handed to clients

    status, done, _ = call(stack, "POST", "/rides/life-1/complete", {"odometer_km": 9})
    assert status == 200 and done["sent"]["odometer_km"] == 9
    status, again, _ = call(stack, "POST", "/rides/life-1/complete", {})
    assert status == 409 and "not waiting" in again["message"]
    wait_for(stack, "/rides/life-1", lambda r: r["status"] == "COMPLETED")

    status, job, _ = call(stack, "POST", f"/cars/{car_id}/maintenance", {"reason": "scheduled service"})
    assert status == 202 and job["car_id"] == car_id
    job_path = job["links"]["job"]
    wait_for(stack, job_path, lambda j: j["status"] == "AWAITING_SIGN_OFF")
    status, signed, _ = call(stack, "POST", f"{job_path}/sign-off", {"technician": "Ada", "passed": True, "notes": "ok"})
    assert status == 200 and signed["sent"]["technician"] == "Ada"
    assert call(stack, "POST", f"{job_path}/sign-off", {"technician": "Ada", "passed": True})[0] == 409

    car = wait_for(stack, f"/cars/{car_id}", lambda c: [h["status"] for h in c["history"]][-1:] == ["AVAILABLE"]
                   and len(c["history"]) == 7)
    assert [h["status"] for h in car["history"]] == ["REGISTERING", "AVAILABLE", "RESERVED", "ON_TRIP", "AVAILABLE",
                                                     "IN_MAINTENANCE", "AVAILABLE"]
    assert [h["version"] for h in car["history"]] == list(range(1, 8))
    assert car["car"]["odometer_km"] == 9


def service(stack, car_id: str, headers: dict | None = None) -> dict:
    """Send the car to maintenance for a scheduled service and sign it off; the job's answer."""
    status, job, _ = call(stack, "POST", f"/cars/{car_id}/maintenance", {"reason": "scheduled service"}, headers)
    assert status == 202 and job["status"] == "RUNNING", job
    wait_for(stack, job["links"]["job"], lambda j: j["status"] == "AWAITING_SIGN_OFF")
    assert call(stack, "GET", f"/cars/{car_id}")[1]["car"]["status"] == "IN_MAINTENANCE"
    assert call(stack, "POST", f"{job['links']['job']}/sign-off", {"technician": "Ada", "passed": True})[0] == 200
    wait_for(stack, job["links"]["execution"], lambda e: e["status"] == "SUCCEEDED")
    return job


def test_a_car_is_serviced_again_for_the_same_reason_and_a_replay_answers_the_real_status(stack):
    vin = "5YJ3E1EA7KF317777"
    car_id = f"car-{vin}"
    assert call(stack, "POST", "/cars?wait=20", {**CAR, "vin": vin})[0] == 201
    key = {"Idempotency-Key": "service-777-first"}

    first = service(stack, car_id, key)
    # The same request again with its key replays the first job, with that job's status now.
    status, replay, _ = call(stack, "POST", f"/cars/{car_id}/maintenance", {"reason": "scheduled service"}, key)
    assert status == 200 and replay["job_id"] == first["job_id"]
    assert replay["status"] == "SUCCEEDED" and replay["outcome"] == "BackInService"

    # A new request for the same car and reason is a new job: the car enters maintenance again.
    second = service(stack, car_id)
    third = service(stack, car_id)
    assert len({first["job_id"], second["job_id"], third["job_id"]}) == 3
    car = wait_for(stack, f"/cars/{car_id}", lambda c: len(c["history"]) == 8)
    assert [h["status"] for h in car["history"]] == ["REGISTERING", "AVAILABLE", *["IN_MAINTENANCE", "AVAILABLE"] * 3]
    for job in (first, second, third):
        assert call(stack, "GET", job["links"]["job"])[1]["status"] == "COMPLETED"


@pytest.mark.parametrize("method, path, body, status", [
    ("POST", "/rides/no-such-ride/complete", {}, 404),
    ("GET", "/rides/no-such-ride", None, 404),
    ("POST", "/rides", {"ride_id": "bad id!", "pickup": {"lat": 0, "lon": 0}, "dropoff": {"lat": 0, "lon": 0},
                        "passengers": 1}, 422),
    ("POST", "/rides", {"ride_id": "r-x", "pickup": {"lat": 91, "lon": 0}, "dropoff": {"lat": 0, "lon": 0},
                        "passengers": 1}, 422),
    ("POST", "/cars/car-NOSUCHCAR0000000/maintenance", {"reason": "x"}, 404),
    ("POST", "/cars/car-NOSUCHCAR0000000/maintenance", {"reason": ""}, 422),
    ("GET", "/maintenance/no-such-job", None, 404),
    ("POST", "/maintenance/no-such-job/sign-off", {"technician": "Ada", "passed": True}, 404),
    ("POST", "/maintenance/no-such-job/sign-off", {"technician": "Ada", "passed": "yes please"}, 422),
    ("POST", "/rides/whatever/complete", {"battery_pct": 101}, 422),
])
def test_lifecycle_error_codes(stack, method, path, body, status):
    got, answer, _ = call(stack, method, path, body)
    assert got == status, answer
    assert_error(answer)


def test_a_ride_with_no_car_is_rejected_with_a_named_outcome(stack):
    status, body, _ = call(stack, "POST", "/rides?wait=20", {"ride_id": "nobody-1", "pickup": {"lat": -33.9, "lon": 18.4},
                                                            "dropoff": {"lat": -33.8, "lon": 18.5}, "passengers": 9})
    assert status == 200 and body["outcome"] == "NoCarAvailable"
    assert call(stack, "GET", "/rides/nobody-1")[1]["status"] == "REJECTED"


def test_fleet_up_serves_the_console_beside_the_api(stack):
    call(stack, "POST", "/cars?wait=20", {**CAR, "vin": "5YJ3E1EA7KF317555"})
    req = urllib.request.Request(stack.api_url + "/console")
    with urllib.request.urlopen(req, timeout=30) as resp:
        page = resp.read().decode()
    assert resp.status == 200 and "fleet-register-car" in page
    assert "register-5YJ3E1EA7KF317555" in page
