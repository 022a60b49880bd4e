"""The API's surface, in process (the local API Gateway front on the FleetApi function, through
werkzeug's test client): 400 with the position for a body that is not JSON, 405 with `Allow`, the
OpenAPI document (tags, the Idempotency-Key header, examples the API accepts, the server it is
served from), paginated lists, and no stack trace or file path in what an execution shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from tests.conftest import Fleet
from tests.reliability.hostile import internals_in
from workflows.definitions import catalog
from workflows.local.api_gateway import ApiGateway, proxy_event
from workflows.local.cloud import LocalCloud
from workflows.local.faults import FaultRule, Faults

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CARS = [{"vin": f"5YJ3E1EA7KF3170{n:02d}", "model": "Robotaxi S", "year": 2024, "seats": 4,
         "location": {"lat": 52.52, "lon": 13.40}, "battery_pct": 90} for n in range(7)]
INVALID_NAME = "register-NOT-A-VIN-0"
BROKEN = [{**car, "vin": f"WVWZZZ1JZXW0000{n:02d}"} for n, car in enumerate(CARS[:3])]


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[Client, Fleet]]:
    faults = Faults({})
    with LocalCloud(virtual_time=True, fault_hook=faults) as cloud:
        client, fleet = Client(ApiGateway(cloud.runtime)), Fleet(cloud)
        for car in CARS:
            assert client.post("/cars?wait=20", json=car).status_code == 201
        # Three registrations whose inspection keeps failing: operational failures, in the DLQ.
        faults.rules = {"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry link timed out")]}
        for car in BROKEN:
            assert client.post("/cars?wait=20", json=car).status_code == 502
        faults.rules = {}
        # One the API would refuse, started directly: the Lambda's error (with its stack trace) ends it.
        cloud.wait(fleet.start("register", {**CARS[0], "vin": "NOT-A-VIN"}, name=INVALID_NAME))
        yield client, fleet


def body(response: Any) -> Any:
    return json.loads(response.get_data(as_text=True))


def assert_error(response: Any) -> dict[str, Any]:
    answer = body(response)
    assert set(answer) <= {"message", "details", "request_id"} and answer["message"] and answer["request_id"]
    assert not internals_in(json.dumps(answer)), answer
    return answer


# --- 400: a body that is not JSON ------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"vin": "x",\n  oops}', "{", '{"vin": "1HGCM82633A004352" "model": 1}', "[1, 2,]",
                                 '{"a": 1}{"b": 2}', "nul", '{"vin": "\x01"}'])
def test_a_body_that_is_not_json_is_400_with_where_it_stops_being_json(api, raw):
    client, _ = api
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        expected = exc
    response = client.post("/cars", data=raw.encode(), content_type="application/json")
    assert response.status_code == 400
    answer = assert_error(response)
    assert answer["details"] == [{"problem": expected.msg, "line": expected.lineno, "column": expected.colno,
                                  "position": expected.pos}]
    assert f"line {expected.lineno} column {expected.colno}" in answer["message"]


@pytest.mark.parametrize("raw", [b'{"seats": ' + b"9" * 5000 + b"}", b"[" * 5000 + b"]" * 5000,
                                 b'{"a":' * 100 + b"1" + b"}" * 100])  # the last parses at any recursion limit
def test_json_this_api_cannot_read_is_400_and_says_why(api, raw):
    response = api[0].post("/cars", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "not JSON this API can read" in assert_error(response)["message"]


def test_json_of_the_wrong_shape_is_still_422(api):
    response = api[0].post("/cars", data=b"[1, 2]", content_type="application/json")
    assert response.status_code == 422
    assert_error(response)


# --- 405 with Allow ------------------------------------------------------------------------

def documented(client: Client) -> dict[str, set[str]]:
    spec = body(client.get("/openapi.json"))
    return {path: {m.upper() for m in item} for path, item in spec["paths"].items()}


def test_every_path_asked_with_another_method_is_405_with_allow(api):
    client, _ = api
    checked = 0
    for template, methods in documented(client).items():
        path = template.replace("{car_id}", "car-5YJ3E1EA7KF317000").replace("{ride_id}", "r-1") \
            .replace("{job_id}", "j-1").replace("{execution_id}", "register-x")
        for method in set(METHODS) - methods:
            response = client.open(path, method=method, json={} if method != "GET" else None)
            assert response.status_code == 405, (method, path, response.get_data())
            assert set(response.headers["Allow"].split(", ")) == methods
            assert method in assert_error(response)["message"]
            checked += 1
    assert checked >= 20


def test_an_unknown_path_is_still_404(api):
    response = api[0].delete("/no/such/route")
    assert response.status_code == 404 and "Allow" not in response.headers
    assert_error(response)


# --- the OpenAPI document --------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec(api) -> dict[str, Any]:
    return body(api[0].get("/openapi.json"))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_is_tagged_with_a_declared_tag(spec):
    declared = {t["name"] for t in spec["tags"]}
    assert all(t.get("description") for t in spec["tags"])
    used = set()
    for method, path, operation in operations(spec):
        assert operation.get("tags") and set(operation["tags"]) <= declared, (method, path)
        used.update(operation["tags"])
    assert used == declared


def test_every_post_that_starts_a_workflow_documents_idempotency_key(spec):
    starting = [(m, p, op) for m, p, op in operations(spec) if m == "POST" and "202" in op["responses"]]
    assert {p for _, p, _ in starting} == {"/cars", "/rides", "/cars/{car_id}/maintenance"}
    for _, path, operation in starting:
        header = next(p for p in operation["parameters"] if p["in"] == "header")
        assert header["name"].lower() == "idempotency-key" and not header["required"], path
        assert '"maxLength": 128' in json.dumps(header["schema"]) and "retry" in header["description"]


def test_request_body_examples_are_requests_the_api_accepts(api, spec):
    """Every request body has named examples, and each one is valid for its route's model (posted
    to a route that validates and then refuses for another reason, or checked by the model)."""
    from fleet_api import dlq, maintenance, rides
    from fleet_domain.models.car import CarRegistration
    from fleet_domain.models.ride import RideRequest

    models = {("POST", "/cars"): CarRegistration, ("POST", "/rides"): RideRequest,
              ("POST", "/rides/{ride_id}/complete"): rides.TripCompletion,
              ("POST", "/cars/{car_id}/maintenance"): maintenance.MaintenanceOrder,
              ("POST", "/maintenance/{job_id}/sign-off"): maintenance.SignOffRequest,
              ("POST", "/dlq/redrive"): dlq.RedriveAll | dlq.RedriveSome}
    with_body = {(m, p): op["requestBody"] for m, p, op in operations(spec) if "requestBody" in op}
    assert set(with_body) == set(models)
    from pydantic import TypeAdapter

    for route, request_body in with_body.items():
        named = request_body["content"]["application/json"]["examples"]
        assert named, route
        for name, example in named.items():
            assert example["summary"], (route, name)
            TypeAdapter(models[route]).validate_python(example["value"])


def test_parameters_have_realistic_examples(spec):
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            example = parameter["schema"].get("examples") or parameter.get("examples")
            assert example, (method, path, parameter["name"])
            assert not any(str(e) in ("string", "0") for e in (example if isinstance(example, list) else [example]))


def test_swagger_ui_calls_the_server_it_is_served_from(api):
    client, _ = api
    page = client.get("/docs").get_data(as_text=True)
    assert "SwaggerUIBundle" in page and "https://" not in page.split("SwaggerUIBundle")[-1][:2000]
    served = body(client.get("/docs?format=json"))
    assert served["servers"] == [{"url": "/"}]  # fleet up serves the API at the root, not under /local
    assert body(client.get("/openapi.json"))["servers"] == [{"url": "/"}]


def test_behind_api_gateways_own_url_the_server_is_the_stage(api):
    """On AWS's execute-api URL the stage is the path's first part: Swagger UI must call /prod/..."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    client, fleet = api
    for path in ("/docs", "/openapi.json"):
        request = Request(EnvironBuilder(path=path, query_string="format=json" if path == "/docs" else None).get_environ())
        event = proxy_event(request, b"", "req-1", stage="prod")
        event["requestContext"]["path"] = f"/prod{path}"
        result = fleet.cloud.runtime.invoke(catalog.function("FleetApi").function_name, json.dumps(event)).json()
        assert json.loads(result["body"])["servers"] == [{"url": "/prod"}], path


# --- pagination ------------------------------------------------------------------------------

def all_pages(client: Client, path: str, key: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    items, token, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}limit={limit}" + (f"&next_token={token}" if token else ""))
        assert response.status_code == 200, response.get_data()
        page = body(response)
        assert len(page[key]) <= limit
        items += page[key]
        pages += 1
        token = page.get("next_token")
        if not token:
            return items, pages


@pytest.mark.parametrize("limit", [1, 3, 100])
def test_cars_page_by_page_are_every_car_once(api, limit):
    client, fleet = api
    everything = sorted(i["car_id"] for i in fleet.items("Cars"))
    cars, pages = all_pages(client, "/cars", "cars", limit)
    assert sorted(c["car_id"] for c in cars) == everything
    assert len(cars) == len(set(c["car_id"] for c in cars))
    assert pages == max(1, -(-len(everything) // limit))


def test_cars_by_status_page_by_page(api):
    client, fleet = api
    available = sorted(i["car_id"] for i in fleet.items("Cars") if i["status"] == "AVAILABLE")
    cars, _ = all_pages(client, "/cars?status=AVAILABLE", "cars", 2)
    assert [c["car_id"] for c in cars] == available  # in car id order


@pytest.mark.parametrize("token", ["garbage", "eyJsIjoiZGxxIiwiZiI6bnVsbCwicCI6e319", "e30", "%00"])
def test_a_token_this_listing_did_not_give_is_refused(api, token):
    response = api[0].get(f"/cars?next_token={token}")
    assert response.status_code == 422
    assert assert_error(response)["details"] == [{"field": "next_token"}]


def test_a_token_of_another_filter_is_refused(api):
    client, _ = api
    token = body(client.get("/cars?limit=1"))["next_token"]
    response = client.get(f"/cars?status=AVAILABLE&next_token={token}")
    assert response.status_code == 422 and "next_token" in assert_error(response)["message"]


def test_dlq_page_by_page(api):
    client, fleet = api
    messages, _ = all_pages(client, "/dlq", "messages", 2)
    assert len(messages) == len(fleet.dlq()) == len(BROKEN)
    assert len({m["id"] for m in messages}) == len(messages)
    assert {m["id"] for m in messages} == {r["failure_id"] for r in fleet.failures()}


def test_a_redrive_that_runs_short_of_time_starts_nothing_and_says_what_remains(api):
    """The function spent most of its 29 s before the redrive (an injected latency counts against
    its timeout): within the answer's margin no redrive starts; every failure stays open."""
    from fleet_api.executions import ANSWER_MARGIN_S

    client, fleet = api
    faults = fleet.cloud.runtime.fault_hook
    left_s = ANSWER_MARGIN_S - 1
    faults.rules = {"FleetApi": [FaultRule(latency_s=catalog.function("FleetApi").timeout_s - left_s, first=1)]}
    try:
        response = client.post("/dlq/redrive", json={"all": True})
    finally:
        faults.rules = {}
    assert response.status_code == 200, response.get_data(as_text=True)
    assert body(response) == {"results": [], "remaining": len(BROKEN)}
    assert {r["status"] for r in fleet.failures()} == {"open"} and len(body(client.get("/dlq"))["messages"]) == 3


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "next_token="])
def test_page_parameters_out_of_range_are_422(api, query):
    for path in ("/cars", "/dlq"):
        response = api[0].get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        assert_error(response)


# --- no stack traces or file paths --------------------------------------------------------------

def test_no_execution_shows_a_stack_trace_or_a_file_path(api):
    """The DLQ'd registrations failed with a Lambda error whose stack trace (absolute paths and all)
    is in what Step Functions says of them; the API shows the error, not the trace."""
    client, fleet = api
    names = [INVALID_NAME] + [m["execution_arn"].rsplit(":", 1)[-1] for m in body(client.get("/dlq"))["messages"]]
    redacted = 0
    for name in names:
        response = client.get(f"/executions/{name}")
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "stackTrace" not in text and not internals_in(text), (name, internals_in(text))
        assert body(response)["error"] in ("CarValidationError", "TransientInspectionError")
        raw = json.dumps(fleet.sfn.describe_execution(executionArn=body(response)["execution_arn"]), default=str)
        redacted += bool(internals_in(raw))
    assert redacted >= len(BROKEN)  # there were stack traces to take out
