"""Hostile HTTP for the REST API, through the local API Gateway front (werkzeug's test client on
the same WSGI app `fleet up --api-port` serves) and the FleetApi function behind it.

Every answer is a 2xx (hostile but valid: the request did what it asked) or a 4xx with the
`{"message", "details"?, "request_id"}` body: never a 5xx, never a stack trace, a file path or a
Python exception's repr in the body. A refused request starts no execution and writes nothing.
What a 2xx starts ends named (tests/reliability/hostile.py settle).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from tests.reliability.hostile import (
    BOUNDED,
    CAR_C,
    CAR_D,
    JOB,
    SPECIAL_STRINGS,
    WORKFLOW_INPUTS,
    LongText,
    deep,
    garbage,
    hostile_text,
    internals_in,
    mutated,
    settle,
)
from workflows.definitions import catalog
from workflows.local.api_gateway import MAX_BODY_BYTES, ApiGateway

# Route templates with a valid body to mutate (None: no body).
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/cars", WORKFLOW_INPUTS["register"]),
    ("GET", "/cars", None),
    ("GET", "/cars/{car_id}", None),
    ("POST", "/rides", WORKFLOW_INPUTS["dispatch"]),
    ("GET", "/rides/{ride_id}", None),
    ("POST", "/rides/{ride_id}/complete", {"odometer_km": 5030, "battery_pct": 80.0}),
    ("POST", "/cars/{car_id}/maintenance", {"reason": "brakes squeak"}),
    ("GET", "/maintenance/{job_id}", None),
    ("POST", "/maintenance/{job_id}/sign-off", {"technician": "Ada Okafor", "passed": True, "notes": "ok"}),
    ("GET", "/executions/{execution_id}", None),
    ("GET", "/dlq", None),
    ("POST", "/dlq/redrive", {"ids": ["m-1"], "dry_run": True}),
]
GOOD_PARAMS = {"car_id": [CAR_C, CAR_D, "car-NOPE"], "ride_id": ["ride-1", "ride-9"], "job_id": [JOB["job_id"]],
               "execution_id": ["register-x-1", "arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:x"]}
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "APPLICATION/JSON"]
WAITS = ["-1", "30", "abc", "", "1e9", "NaN", "0", "0.5", "\x00", "99999999999999999999"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
RAW_BODIES = [b"", b"   ", b"{", b"nul", b"\xff\xfe{}", b"\xed\xa0\x80", b"{\"a\": 1}{\"b\": 2}", b"[]", b"null",
              b"\"x\"", b"1e999", b"{\"vin\": NaN}", b"{\"vin\": Infinity}", b"\x00"]
ERROR_KEYS = {"message", "details", "request_id"}
COMPARED = ("Cars", "Rides", "MaintenanceJobs", "Idempotency")


@pytest.fixture(scope="module")
def api(seeded_cloud):
    cloud, tables = seeded_cloud
    return Client(ApiGateway(cloud.runtime)), cloud, tables


def segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def hostile_requests(draw: st.DrawFn) -> dict[str, Any]:
    method, template, body = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(METHODS))
    path = template
    for name in ("car_id", "ride_id", "job_id", "execution_id"):
        if "{" + name + "}" in path:
            value = draw(st.one_of(st.sampled_from(GOOD_PARAMS[name]), hostile_text,
                                   st.sampled_from(["..", "%2F", "a/b", LongText("x" * 3000), "car-\x00"])))
            path = path.replace("{" + name + "}", segment(value) or "%20")
    query: dict[str, str] = {}
    if draw(st.booleans()):
        query["wait"] = draw(st.sampled_from(WAITS))
    if template == "/cars" and draw(st.booleans()):
        query["status"] = draw(st.one_of(st.sampled_from(["AVAILABLE", "available", ""]), hostile_text))
    headers = {}
    if draw(st.integers(0, 4)) == 0:
        headers["Idempotency-Key"] = draw(st.sampled_from(["", "k" * 129, "key-1", "\t", "é", "a,b", "k" * 128]))
    kind = draw(st.sampled_from(["mutated", "mutated", "valid", "garbage", "raw", "deep", "none"]))
    content_type = draw(st.sampled_from(CONTENT_TYPES)) if draw(st.integers(0, 3)) == 0 else "application/json"
    if kind == "none" or body is None and kind in ("mutated", "valid"):
        data = b""
    elif kind == "raw":
        data = draw(st.sampled_from(RAW_BODIES))
    else:
        value = {"mutated": lambda: draw(mutated(body)), "valid": lambda: body, "garbage": lambda: draw(garbage),
                 "deep": lambda: deep(body, draw(st.integers(50, 400)))}[kind]()
        data = json.dumps(value).encode()
    return {"method": method, "path": path, "query": query, "headers": headers, "content_type": content_type,
            "data": data}


def send(client: Client, request: dict[str, Any]):
    query = "&".join(f"{k}={segment(v)}" for k, v in request["query"].items())
    return client.open(request["path"] + (f"?{query}" if query else ""), method=request["method"],
                       data=request["data"], content_type=request["content_type"] or None,
                       headers=request["headers"])


def executions(cloud) -> dict[str, list[str]]:
    sfn = cloud.client("stepfunctions")
    return {sm.workflow: sorted(e["executionArn"] for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=cloud.state_machine_arn(sm.workflow)) for e in page["executions"])
        for sm in catalog.STATE_MACHINES}


def assert_error_body(response) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert not internals_in(text), f"{response.status_code} echoes internals: {text[:500]}"
    assert response.mimetype == "application/json", (response.status_code, response.mimetype, text[:300])
    body = json.loads(text)
    assert isinstance(body, dict) and set(body) <= ERROR_KEYS, body
    assert isinstance(body.get("message"), str) and body["message"].strip(), body
    assert body.get("request_id") == response.headers.get("x-amzn-RequestId"), (body, dict(response.headers))
    return body


def check(api, request: dict[str, Any]) -> int:
    client, cloud, tables = api
    started_before = executions(cloud)
    response = send(client, request)
    status = response.status_code
    assert status < 500, f"{request['method']} {request['path'][:80]} -> {status}: {response.get_data()[:500]!r}"
    if status >= 400:
        assert_error_body(response)
        assert executions(cloud) == started_before, "a refused request started an execution"
        assert tables.snapshot(COMPARED) == tables.seeded_view(COMPARED), "a refused request wrote"
        return status
    new = sorted(set(sum(executions(cloud).values(), [])) - set(sum(started_before.values(), [])))
    for arn in new:
        settle(cloud, arn)
    tables.stop_executions()
    if tables.snapshot(COMPARED) != tables.seeded_view(COMPARED):
        tables.restore()
    return status


@settings(BOUNDED, max_examples=60)
@given(request=hostile_requests())
def test_hostile_requests_get_a_clear_4xx_or_do_what_they_ask(api, request):
    check(api, request)


@pytest.mark.parametrize("route", [r for r in ROUTES if r[2] is not None], ids=lambda r: f"{r[0]} {r[1]}")
@settings(BOUNDED, max_examples=12)
@given(data=st.data())
def test_every_body_route_refuses_mutated_bodies_clearly(api, route, data):
    method, template, body = route
    path = template.format(**{k: v[0] for k, v in GOOD_PARAMS.items()})
    check(api, {"method": method, "path": path, "query": {}, "headers": {}, "content_type": "application/json",
                "data": json.dumps(data.draw(mutated(body), label="body")).encode()})


@pytest.mark.parametrize("text", SPECIAL_STRINGS[:-2], ids=repr)
def test_unicode_in_every_field_of_a_registration(api, text):
    for field in ("vin", "model", "correlation_id"):
        body = {**WORKFLOW_INPUTS["register"], field: text}
        check(api, {"method": "POST", "path": "/cars", "query": {}, "headers": {}, "content_type": "application/json",
                    "data": json.dumps(body).encode()})


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -0.0, 1e-300, 5e-324, 2**63, 10**39, 1e308, 2024.5,
                                    True], ids=repr)
def test_boundary_numbers_in_every_number_of_a_ride(api, number):
    ride = WORKFLOW_INPUTS["dispatch"]
    for path in (("passengers",), ("pickup", "lat"), ("dropoff", "lon")):
        body = json.loads(json.dumps(ride))
        target = body
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = number
        check(api, {"method": "POST", "path": "/rides", "query": {}, "headers": {},
                    "content_type": "application/json", "data": json.dumps(body).encode()})


def test_a_body_over_the_step_functions_limit_is_refused(api):
    body = {**WORKFLOW_INPUTS["register"], "model": LongText("m" * (300 * 1024))}
    status = check(api, {"method": "POST", "path": "/cars", "query": {}, "headers": {},
                         "content_type": "application/json", "data": json.dumps(body).encode()})
    assert status == 422


def test_a_body_over_6_mb_is_refused_at_the_front_with_413(api):
    status = check(api, {"method": "POST", "path": "/cars", "query": {}, "headers": {},
                         "content_type": "application/json", "data": b"{\"model\": \"" + b"m" * MAX_BODY_BYTES + b"\"}"})
    assert status == 413


def test_a_body_that_is_not_utf8_is_refused_not_crashed_on(api):
    status = check(api, {"method": "POST", "path": "/cars", "query": {}, "headers": {},
                         "content_type": "application/json", "data": b"{\"vin\": \"\xff\xfe\"}"})
    assert status == 422


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data", "image/png",
                                          "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415_unsupported_media_type(api, content_type):
    # Powertools would try its form or multipart parser on these, and fail on a body that is not one.
    status = check(api, {"method": "POST", "path": "/cars", "query": {}, "headers": {}, "content_type": content_type,
                         "data": json.dumps(WORKFLOW_INPUTS["register"]).encode()})
    assert status == 415


@pytest.mark.parametrize("data", [b"{\"odometer_km\": " + b"9" * 5000 + b"}", b"[" * 5000 + b"]" * 5000],
                         ids=["5000-digit-number", "nested-5000-deep"])
def test_json_python_cannot_parse_is_400(api, data):
    # json.loads raises ValueError (the int digit limit) or RecursionError here, not JSONDecodeError.
    status = check(api, {"method": "POST", "path": "/cars", "query": {}, "headers": {},
                         "content_type": "application/json", "data": data})
    assert status == 400
