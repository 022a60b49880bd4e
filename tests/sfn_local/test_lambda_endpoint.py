"""`fleet lambda-endpoint` driven as Step Functions Local drives its LAMBDA_ENDPOINT: boto3's Lambda
client against a real HTTP server on a free loopback port, the catalog's real handlers behind it.

Python's Lambda runtime reports every exception a handler raises with `X-Amz-Function-Error:
Unhandled` (the "Handled" kind belongs to old Node.js callbacks), so "handled" here means a domain
error the workflow catches by name (CarValidationError) and "unhandled" an unexpected crash; both
reach Step Functions as the errorType, the name `Retry` and `Catch` match.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from workflows.definitions import catalog
from workflows.local.faults import FaultRule, Faults

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
       "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88}
VALIDATE_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fleet-validate-car"


def invoke(lam, function_name: str, payload, **kwargs) -> tuple[dict, object]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = lam.invoke(FunctionName=function_name, Payload=body, **kwargs)
    raw = response["Payload"].read()
    return response, (json.loads(raw) if raw else None)


class Recorder:
    """A fault hook that injects nothing: it notes which function ran with which event."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.called = threading.Event()

    def __call__(self, function, event, clock) -> None:
        self.calls.append((function.logical_id, event))
        self.called.set()


def test_success_is_the_handlers_result(lambda_endpoint):
    lam = lambda_endpoint().client()
    response, payload = invoke(lam, "fleet-validate-car", CAR)

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert payload["car_id"] == "car-1HGCM82633A004352" and payload["odometer_km"] == 0
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_a_domain_error_is_a_function_error_named_by_its_class(lambda_endpoint):
    """What the register workflow's Catch on CarValidationError sees, from Step Functions Local too."""
    lam = lambda_endpoint().client()
    response, payload = invoke(lam, "fleet-validate-car", {**CAR, "vin": "TOOSHORT"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "CarValidationError"
    assert payload["errorMessage"].startswith("vin:")
    assert isinstance(payload["stackTrace"], list)


def test_an_unexpected_crash_is_an_unhandled_function_error_with_lambdas_payload(lambda_endpoint):
    lam = lambda_endpoint().client()
    response, payload = invoke(lam, "fleet-inspect-car", {"not": "a car"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    # Lambda's Python runtime's keys, in its order.
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorType"] == "ValidationError"  # pydantic refused the event
    assert any("inspect_car.py" in frame for frame in payload["stackTrace"])


def test_a_handler_past_its_timeout_answers_sandbox_timedout(lambda_endpoint):
    endpoint = lambda_endpoint(fault_hook=Faults({"InspectCar": [FaultRule(timeout=True)]}))
    started = time.monotonic()
    response, payload = invoke(endpoint.client(), "fleet-inspect-car", {"car_id": "car-1"})

    assert response["FunctionError"] == "Unhandled"
    assert payload == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 15.00 seconds"}
    assert time.monotonic() - started < 5  # the 15 s ran on the virtual clock


def test_unknown_function_is_404_resource_not_found(lambda_endpoint):
    lam = lambda_endpoint().client()
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as raised:
        invoke(lam, "fleet-no-such-function", {})
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:fleet-no-such-function")


def test_throttled_function_is_429_too_many_requests(lambda_endpoint):
    """Step Functions reports this as Lambda.TooManyRequestsException, which the ASL retries."""
    lam = lambda_endpoint(fault_hook=Faults({"ValidateCar": [FaultRule(throttle=True)]})).client()
    with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
        invoke(lam, "fleet-validate-car", CAR)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_a_body_that_is_not_json_is_400(lambda_endpoint):
    lam = lambda_endpoint().client()
    with pytest.raises(ClientError) as raised:
        invoke(lam, "fleet-validate-car", b"{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("name, qualifier", [
    ("fleet-validate-car:$LATEST", None),
    ("fleet-validate-car", "live"),
    (VALIDATE_ARN, None),
    (f"{VALIDATE_ARN}:$LATEST", None),
    ("fleet-validate-car:7", "7"),
])
def test_names_arns_and_qualifiers_reach_the_same_function(lambda_endpoint, name, qualifier):
    """Step Functions Local calls with the ARN the state machine names (URL-encoded in the path)."""
    lam = lambda_endpoint().client()
    response, payload = invoke(lam, name, CAR, **({"Qualifier": qualifier} if qualifier else {}))
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert payload["car_id"] == "car-1HGCM82633A004352"


def test_event_invocation_is_accepted_then_run(lambda_endpoint):
    recorder = Recorder()
    lam = lambda_endpoint(fault_hook=recorder).client()
    response = lam.invoke(FunctionName="fleet-validate-car", InvocationType="Event", Payload=json.dumps(CAR))

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert recorder.called.wait(5)
    assert recorder.calls == [("ValidateCar", CAR)]


def test_failed_event_invocation_is_retried_twice_then_handed_to_on_failure(lambda_endpoint):
    failures: list[dict] = []
    done = threading.Event()
    recorder = Recorder()
    lam = lambda_endpoint(fault_hook=recorder, on_async_failure=lambda r: (failures.append(r), done.set())).client()

    response = lam.invoke(FunctionName="fleet-inspect-car", InvocationType="Event", Payload=b'{"not": "a car"}')

    assert response["StatusCode"] == 202
    assert done.wait(10)
    assert len(recorder.calls) == 3  # the first attempt and Lambda's two retries
    [record] = failures
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"not": "a car"}
    assert record["responsePayload"]["errorType"] == "ValidationError"


def test_dry_run_checks_the_function_and_runs_nothing(lambda_endpoint):
    recorder = Recorder()
    lam = lambda_endpoint(fault_hook=recorder).client()

    response = lam.invoke(FunctionName="fleet-validate-car", InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="fleet-nope", InvocationType="DryRun")
    time.sleep(0.05)
    assert recorder.calls == []


def test_log_tail_is_base64_log_lines_of_the_invocation(lambda_endpoint):
    lam = lambda_endpoint().client()
    response, _ = invoke(lam, "fleet-validate-car", CAR, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id}" in log and f"REPORT RequestId: {request_id}" in log


def test_list_functions_shows_the_catalog(lambda_endpoint):
    lam = lambda_endpoint().client()
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert set(functions) == {f.function_name for f in catalog.FUNCTIONS}
    assert functions["fleet-inspect-car"]["Timeout"] == 15
    assert functions["fleet-validate-car"]["FunctionArn"] == VALIDATE_ARN


def test_other_paths_are_404_in_lambdas_error_format(lambda_endpoint):
    endpoint = lambda_endpoint()
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{endpoint.url}/2015-03-31/functions/fleet-validate-car/no-such-thing", timeout=5)
    assert raised.value.code == 404
    assert raised.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "message" in json.loads(raised.value.read())
