"""Lambda's contract, locally: JSON boundary, context, timeout, error payload, throttling."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest

from workflows.definitions import catalog
from workflows.local.clock import RealClock, VirtualClock
from workflows.local.faults import FaultRule, Faults
from workflows.local.lambda_runtime import LambdaRuntime

GOOD = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}


@pytest.fixture
def runtime():
    r = LambdaRuntime(VirtualClock())
    yield r
    r.shutdown()


def test_success_crosses_a_json_boundary(runtime):
    result = runtime.invoke("fleet-validate-car", json.dumps(GOOD).encode())
    assert result.status_code == 200 and result.function_error is None
    assert result.json()["car_id"] == "car-1HGCM82633A004352"
    assert isinstance(result.payload, bytes)


def test_handled_domain_error_is_a_function_error_named_after_the_exception(runtime):
    result = runtime.invoke("fleet-validate-car", json.dumps({**GOOD, "year": 1900}))
    assert result.function_error == "Unhandled"
    payload = result.json()
    assert payload["errorType"] == "CarValidationError"
    assert payload["errorMessage"].startswith("year:")
    assert isinstance(payload["stackTrace"], list) and payload["stackTrace"]
    assert not any("lambda_runtime.py" in frame for frame in payload["stackTrace"])


def test_function_resolves_by_name_arn_and_qualified_arn(runtime):
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fleet-validate-car"
    for name in ("fleet-validate-car", arn, arn + ":$LATEST", arn + ":live"):
        assert runtime.invoke(name, json.dumps(GOOD)).function_error is None


def test_unknown_function_is_not_found(runtime):
    with pytest.raises(KeyError):
        runtime.invoke("fleet-no-such-function", b"{}")


def test_invalid_json_payload_is_rejected_before_the_handler(runtime):
    result = runtime.invoke("fleet-validate-car", b"{not json")
    assert result.status_code == 400 and result.error_code == "InvalidRequestContentException"


def test_context_carries_lambda_facts(runtime):
    seen = {}

    def spy(function, event, clock):
        seen["function"] = function.logical_id

    runtime.fault_hook = spy
    function = catalog.function("ValidateCar")
    runtime.invoke(function.function_name, json.dumps(GOOD))
    assert seen == {"function": "ValidateCar"}


def test_a_handler_past_its_timeout_is_reported_as_lambda_reports_it():
    runtime = LambdaRuntime(VirtualClock(), fault_hook=Faults({"ValidateCar": [FaultRule(timeout=True)]}))
    try:
        result = runtime.invoke("fleet-validate-car", json.dumps(GOOD))
    finally:
        runtime.shutdown()
    assert result.function_error == "Unhandled"
    assert result.json() == {"errorType": "Sandbox.Timedout",
                             "errorMessage": "Task timed out after 5.00 seconds"}


def test_the_timeout_runs_from_the_handlers_start_not_from_the_wait_for_a_worker(monkeypatch):
    # One worker: the second invocation waits behind the first for longer than its timeout, and
    # still has its whole timeout to run, as in a Lambda sandbox of its own.
    quick = dataclasses.replace(catalog.function("ValidateCar"), timeout_s=1)
    monkeypatch.setattr(catalog, "function_by_name", lambda name: quick)
    release = threading.Event()

    def first_call_is_slow(fn, event, clock):
        if event.get("first"):
            release.wait(1.5)

    runtime = LambdaRuntime(RealClock(), fault_hook=first_call_is_slow, workers=1)
    results = {}
    try:
        first = threading.Thread(target=lambda: results.setdefault("first", runtime.invoke("x", json.dumps({**GOOD, "first": 1}))))
        first.start()
        time.sleep(0.1)
        results["second"] = runtime.invoke("x", json.dumps(GOOD))
        first.join()
    finally:
        runtime.shutdown()
    assert results["first"].json()["errorType"] == "Sandbox.Timedout"
    assert results["second"].function_error is None, results["second"].json()


def test_reserved_concurrency_throttles_the_extra_invocation():
    function = catalog.function("RecordCarEvent")
    assert function.reserved_concurrency == 5
    faults = Faults({"RecordCarEvent": [FaultRule(latency_s=0.5)]})
    runtime = LambdaRuntime(RealClock(), fault_hook=faults)
    results = []
    barrier = threading.Barrier(6)

    def call():
        barrier.wait()
        results.append(runtime.invoke(function.function_name, b'{"detail": {}}'))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runtime.shutdown()
    codes = sorted(r.error_code or "" for r in results)
    assert codes.count("TooManyRequestsException") >= 1
    assert len([r for r in results if r.status_code == 200]) == 5


def test_a_burst_of_events_past_reserved_concurrency_is_held_in_the_queue_not_throttled():
    # Twelve events for a function that runs five at a time: each first attempt runs, never more
    # than five at once, and none is throttled into a backoff.
    function = catalog.function("RecordCarEvent")
    running, most, ran, lock = [0], [0], [], threading.Condition()

    def slow(fn, event, clock):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            lock.notify_all()
            # Each stays until the function is at its limit (or a moment passed: the last few).
            lock.wait_for(lambda: running[0] >= fn.reserved_concurrency, timeout=0.5)
        with lock:
            running[0] -= 1
            ran.append(event["detail"]["n"])

    runtime = LambdaRuntime(RealClock(), fault_hook=slow)
    answers = []
    invoke = runtime.invoke
    runtime.invoke = lambda *args, **kwargs: answers.append(invoke(*args, **kwargs)) or answers[-1]
    try:
        for n in range(12):
            runtime.invoke_async(function.function_name, json.dumps({"detail": {"n": n}}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(ran)) < 12:
            time.sleep(0.01)
    finally:
        runtime.shutdown()
    assert sorted(set(ran)) == list(range(12))
    assert most[0] == function.reserved_concurrency
    assert [a.error_code for a in answers if a.error_code] == []


def test_a_throttled_event_is_retried_without_spending_an_attempt():
    faults = Faults({"InspectCar": [FaultRule(throttle=True, first=2), FaultRule(error="Broken")]})
    calls, failed = [], threading.Event()
    records = []

    def hook(fn, event, clock):
        calls.append(fn.logical_id)
        faults(fn, event, clock)

    runtime = LambdaRuntime(VirtualClock(), fault_hook=hook)
    runtime.async_retry_delay_s = 0.01
    try:
        runtime.invoke_async("fleet-inspect-car", b'{"car_id": "car-1"}', on_failure=lambda r: (records.append(r), failed.set()))
        assert failed.wait(10)
    finally:
        runtime.shutdown()
    # Two throttles, then the first attempt and Lambda's two retries: five calls, three attempts.
    assert len(calls) == 5
    [record] = records
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 5
    assert record["responsePayload"]["errorType"] == "Broken"


def test_injected_named_error_and_first_n_schedule(runtime):
    runtime.fault_hook = Faults({"ValidateCar": [FaultRule(error="TransientThing", first=1)]})
    first = runtime.invoke("fleet-validate-car", json.dumps(GOOD))
    second = runtime.invoke("fleet-validate-car", json.dumps(GOOD))
    assert first.json()["errorType"] == "TransientThing"
    assert second.function_error is None


def test_rate_faults_are_deterministic_with_a_seed():
    def pattern(seed):
        faults = Faults({"ValidateCar": [FaultRule(error="Boom", rate=0.5)]}, seed=seed)
        r = LambdaRuntime(VirtualClock(), fault_hook=faults)
        try:
            return [bool(r.invoke("fleet-validate-car", json.dumps(GOOD)).function_error) for _ in range(20)]
        finally:
            r.shutdown()

    assert pattern(7) == pattern(7)
    assert 0 < sum(pattern(7)) < 20


def test_faults_file_errors_are_one_line(tmp_path):
    bad = tmp_path / "faults.json"
    bad.write_text('{"functions": {"NoSuchFunction": [{"error": "X"}]}}')
    with pytest.raises(ValueError, match="NoSuchFunction"):
        Faults.from_file(bad)
    bad.write_text("{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        Faults.from_file(bad)


def test_table_faults_name_catalog_tables_and_say_what_they_do(tmp_path):
    faults = Faults.from_dict({"seed": 1, "tables": {"Cars": [{"throughput_exceeded": True, "first": 1}]}})
    cars = catalog.table("Cars").table_name
    assert [faults.table_fault(cars) for _ in range(3)] == [True, False, False]
    assert faults.table_fault(catalog.table("Rides").table_name) is False
    for bad, problem in (({"tables": {"Garages": [{"throughput_exceeded": True}]}}, "Garages"),
                         ({"tables": {"Cars": [{"rate": 0.5}]}}, "throughput_exceeded")):
        path = tmp_path / "faults.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=problem):
            Faults.from_file(path)


def test_wait_for_async_returns_once_every_event_has_ended():
    ran, release = [], threading.Event()

    def held(fn, event, clock):
        release.wait(5)
        ran.append(event["n"])
        raise RuntimeError("refused")  # and Lambda's two retries, then the on-failure destination

    failures = []
    runtime = LambdaRuntime(VirtualClock(), fault_hook=held)
    try:
        for n in range(3):
            runtime.invoke_async("fleet-inspect-car", json.dumps({"n": n}), on_failure=failures.append)
        assert runtime.wait_for_async(0.2) is False  # held: not one has ended
        release.set()
        assert runtime.wait_for_async(10) is True
    finally:
        runtime.shutdown()
    assert sorted(ran) == [0, 0, 0, 1, 1, 1, 2, 2, 2] and len(failures) == 3
