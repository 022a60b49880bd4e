"""Hostile events for every Lambda handler in the catalog, invoked through the LambdaRuntime with
Lambda's contract (JSON in, JSON out, errors as {errorMessage, errorType, requestId, stackTrace}).

Each event either succeeds (hostile but valid: a domain outcome), or fails with a named error: a
domain error (fleet_domain.models.errors.FleetError and its subclasses) or the validation error of the
event's model; never a KeyError/TypeError/AttributeError/... from the code, never a timeout, never
a write that stays behind when the event was refused.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reliability.hostile import (
    BOUNDED,
    RAW_PAYLOADS,
    TEMPLATES,
    VALIDATION_ERROR,
    domain_error_names,
    hostile_events,
    internals_in,
)
from workflows.definitions import catalog

FUNCTIONS = [f for f in catalog.FUNCTIONS if f.logical_id != "FleetApi"]  # the API: test_hostile_api.py
DOMAIN_ERRORS = domain_error_names()
# What a refused event may leave behind: nothing. RecordCarEvent writes CarHistory itself; the
# others' published events reach CarHistory asynchronously (through the bus), so it is compared
# only for RecordCarEvent.
WRITES_HISTORY = {"RecordCarEvent"}


def test_every_function_has_a_template():
    assert sorted(TEMPLATES) == sorted(f.logical_id for f in FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_the_template_itself_is_accepted(seeded_cloud, function):
    """The mutations start from a valid event: each template succeeds on the seeded tables."""
    cloud, tables = seeded_cloud
    tables.restore()
    result = cloud.runtime.invoke(function.function_name, json.dumps(TEMPLATES[function.logical_id]))
    assert result.function_error is None and result.error_code is None, result.payload[:500]
    tables.stop_executions()
    tables.restore()


def assert_clear_refusal(function_id: str, payload: dict) -> None:
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"], payload  # Lambda's, in its order
    error_type, message = payload["errorType"], payload["errorMessage"]
    assert error_type in DOMAIN_ERRORS | {VALIDATION_ERROR}, (
        f"{function_id} leaked {error_type}: {message[:300]}")
    if error_type == VALIDATION_ERROR:
        assert "validation error" in message, message[:300]  # pydantic's, naming the model and fields
    assert message.strip(), payload


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
@settings(BOUNDED, max_examples=30)
@given(data=st.data())
def test_hostile_events_get_a_named_error_and_write_nothing(seeded_cloud, function, data):
    cloud, tables = seeded_cloud
    event = data.draw(hostile_events(TEMPLATES[function.logical_id]), label="event")
    compared = ("Cars", "Rides", "MaintenanceJobs") + (("CarHistory",) if function.logical_id in WRITES_HISTORY else ())
    before = tables.seeded_view(compared)  # every example starts from the seeded tables

    result = cloud.runtime.invoke(function.function_name, json.dumps(event))

    assert result.error_code is None, (result.error_code, result.payload[:300])  # JSON in: Lambda took it
    payload = result.json()
    after = tables.snapshot(compared)
    if result.function_error:
        assert_clear_refusal(function.logical_id, payload)
        assert after == before, f"{function.logical_id} refused the event but wrote"
    elif after != before:
        tables.restore()  # a hostile but valid event did its job; the next example starts seeded


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_payloads_that_are_not_json_are_refused_by_lambda_itself(seeded_cloud, function):
    """As AWS Lambda does: 400 InvalidRequestContentException, the handler never runs."""
    cloud, _ = seeded_cloud
    for raw in RAW_PAYLOADS:
        result = cloud.runtime.invoke(function.function_name, raw)
        assert (result.status_code, result.error_code) == (400, "InvalidRequestContentException"), raw[:40]
        assert not internals_in(result.payload.decode()), result.payload[:300]


def test_a_payload_over_lambdas_6_mb_is_refused_before_the_handler(seeded_cloud):
    cloud, _ = seeded_cloud
    event = {**TEMPLATES["ValidateCar"], "model": "m" * (6 * 1024 * 1024)}
    result = cloud.runtime.invoke("fleet-validate-car", json.dumps(event))
    assert (result.status_code, result.error_code) == (413, "RequestTooLargeException")


def test_the_runtime_still_serves_after_the_hostile_events(seeded_cloud):
    cloud, tables = seeded_cloud
    tables.restore()
    result = cloud.runtime.invoke("fleet-validate-car", json.dumps(TEMPLATES["ValidateCar"]))
    assert result.function_error is None and result.json()["car_id"] == "car-WVWZZZ1JZXW000001"
