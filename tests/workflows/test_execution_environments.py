"""Lambda's execution model, locally: each function runs in execution environments (worker
processes) with its own variables, an init phase, its memory limit, a timeout that ends the
environment, and concurrency counted in environments.

The functions here are written to a temporary folder and added to the catalog's lookup, as the
conformance harness adds its own (catalog.function_by_name, patched in this process).
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from workflows.definitions import catalog
from workflows.local.clock import RealClock
from workflows.local.lambda_runtime import InvocationRecord, LambdaRuntime

pytestmark = pytest.mark.no_invariants  # these functions write only to the Idempotency table

SOURCES = {
    "env_echo": """
        import os

        def handler(event, context):
            return {k: os.environ.get(k) for k in event["names"]}
        """,
    "late_writer": """
        import os, time
        import boto3

        ddb = boto3.client("dynamodb")

        def handler(event, context):
            ddb.put_item(TableName=os.environ["TABLE"], Item={"id": {"S": event["id"] + "-before"}})
            time.sleep(event["sleep_s"])
            ddb.put_item(TableName=os.environ["TABLE"], Item={"id": {"S": event["id"] + "-after"}})
            return "done"
        """,
    "sleeper": """
        import time

        def handler(event, context):
            started = time.time()
            time.sleep(event.get("sleep_s", 0))
            return {"started": started, "ended": time.time(), "remaining_ms": context.get_remaining_time_in_millis()}
        """,
    "hog": """
        def handler(event, context):
            hoard = bytearray(event["mb"] * 1024 * 1024)
            return len(hoard)
        """,
    "broken": """
        raise RuntimeError("the module fails at import")
        """,
}


def _function(logical_id: str, module: str, **kwargs: Any) -> catalog.Function:
    return catalog.Function(logical_id, handler=f"{module}.handler", description="test function", **kwargs)


FUNCTIONS = {f.function_name: f for f in (
    _function("EnvEchoRed", "env_echo", environment={"COLOR": "red"}),
    _function("EnvEchoBlue", "env_echo", environment={"COLOR": "blue", "ONLY_BLUE": "yes"}),
    _function("LateWriter", "late_writer", timeout_s=1,
              environment={"TABLE": catalog.table("Idempotency").table_name}),
    _function("Sleeper", "sleeper", timeout_s=5, reserved_concurrency=1),
    _function("Hog", "hog", memory_mb=128),
    _function("Broken", "broken"),
)}


@pytest.fixture
def test_functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, catalog.Function]:
    for module, source in SOURCES.items():
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    original = catalog.function_by_name

    def function_by_name(name: str) -> catalog.Function:
        short = name.split(":function:")[-1].split(":")[0]
        return FUNCTIONS[short] if short in FUNCTIONS else original(name)

    monkeypatch.setattr(catalog, "function_by_name", function_by_name)
    return FUNCTIONS


@pytest.fixture
def runtime(test_functions: Any) -> Any:
    r = LambdaRuntime(RealClock())
    records: list[InvocationRecord] = []
    r.observers.append(records.append)
    r.records = records  # type: ignore[attr-defined]
    yield r
    r.shutdown()


def _idempotency_ids(cloud: Any) -> set[str]:
    items = cloud.client("dynamodb").scan(TableName=catalog.table("Idempotency").table_name)["Items"]
    return {i["id"]["S"] for i in items}


def test_a_handler_past_its_timeout_writes_nothing_afterwards(cloud, test_functions):
    result = cloud.runtime.invoke("fleet-late-writer", json.dumps({"id": "w1", "sleep_s": 1.5}))
    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert result.json()["errorMessage"] == "Task timed out after 1.00 seconds"
    time.sleep(1.5)  # past the moment the handler would have written again, had it lived on
    assert _idempotency_ids(cloud) == {"w1-before"}
    # The next invocation gets a new environment and runs normally.
    assert cloud.runtime.invoke("fleet-late-writer", json.dumps({"id": "w2", "sleep_s": 0})).json() == "done"
    assert _idempotency_ids(cloud) == {"w1-before", "w2-before", "w2-after"}


def test_two_functions_see_only_their_own_environment_variables(runtime, monkeypatch):
    monkeypatch.setenv("THE_CALLERS_OWN", "secret")
    names = ["COLOR", "ONLY_BLUE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "THE_CALLERS_OWN",
             "AWS_REGION"]
    red = runtime.invoke("fleet-env-echo-red", json.dumps({"names": names})).json()
    blue = runtime.invoke("fleet-env-echo-blue", json.dumps({"names": names})).json()
    assert red == {"COLOR": "red", "ONLY_BLUE": None, "AWS_LAMBDA_FUNCTION_NAME": "fleet-env-echo-red",
                   "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "THE_CALLERS_OWN": None, "AWS_REGION": "us-east-1"}
    assert blue["COLOR"] == "blue" and blue["ONLY_BLUE"] == "yes"
    assert blue["AWS_LAMBDA_FUNCTION_NAME"] == "fleet-env-echo-blue"


def test_catalog_functions_get_the_catalogs_variables_only(runtime):
    from workflows.local.names import resolve

    records = runtime.records
    runtime.invoke("fleet-validate-car", json.dumps({"vin": "1HGCM82633A004352", "model": "S", "year": 2024, "seats": 4}))
    assert records[-1].outcome == "ok"
    everyones = {k for f in catalog.FUNCTIONS for k in f.environment}
    for function in catalog.FUNCTIONS:
        env = runtime._environment_spec(function)["env"]
        own = {k: resolve(v) if isinstance(v, catalog.Ref) else v for k, v in function.environment.items()}
        assert {k: env[k] for k in own} == own
        assert not (everyones - set(own)) & set(env), function.logical_id  # nobody else's


def test_a_cold_start_reports_init_duration_and_a_warm_one_does_not(runtime):
    for _ in range(3):
        assert runtime.invoke("fleet-sleeper", "{}").function_error is None
    first, second, third = runtime.records
    assert first.init_ms is not None and first.init_ms > 0
    assert second.init_ms is None and third.init_ms is None
    assert "Init Duration: " in first.report_line()
    assert "Init Duration" not in second.report_line()
    lines = first.log_lines()
    assert lines[0].startswith("INIT_START Runtime Version: python3.11 (runs on this machine's python3.")
    assert lines[1] == f"START RequestId: {first.request_id} Version: $LATEST"
    assert second.log_lines()[0] == f"START RequestId: {second.request_id} Version: $LATEST"
    assert lines[-2] == f"END RequestId: {first.request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {first.request_id}\tDuration: ")
    for part in ("Billed Duration: ", "Memory Size: 256 MB", "Max Memory Used: "):
        assert part in lines[-1]


def test_one_invocation_at_a_time_per_environment_and_warm_reuse(runtime, test_functions):
    limited = test_functions["fleet-sleeper"]
    unlimited = dataclasses.replace(limited, reserved_concurrency=None)
    test_functions["fleet-sleeper"] = unlimited
    try:
        threads = [threading.Thread(target=runtime.invoke, args=("fleet-sleeper", json.dumps({"sleep_s": 0.3})))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len([r for r in runtime.records if r.init_ms is not None]) == 3  # three at once: three environments
        runtime.invoke("fleet-sleeper", "{}")
        assert runtime.records[-1].init_ms is None  # a warm one was reused
        assert runtime.environments.idle_count(unlimited) == 3
    finally:
        test_functions["fleet-sleeper"] = limited


def test_a_throttled_synchronous_call_gets_429_and_an_asynchronous_one_waits(runtime):
    busy = threading.Thread(target=runtime.invoke, args=("fleet-sleeper", json.dumps({"sleep_s": 0.5})))
    busy.start()
    deadline = time.monotonic() + 10
    while runtime.busy() == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    throttled = runtime.invoke("fleet-sleeper", "{}")
    assert (throttled.status_code, throttled.error_code) == (429, "TooManyRequestsException")
    busy.join()
    # Two events while reserved concurrency is 1: both run, one after the other, neither throttled.
    runtime.records.clear()
    runtime.invoke_async("fleet-sleeper", json.dumps({"sleep_s": 0.3}))
    runtime.invoke_async("fleet-sleeper", json.dumps({"sleep_s": 0.3}))
    assert runtime.wait_for_async(30)
    runs = [r for r in runtime.records if r.outcome == "ok"]
    assert len(runs) == 2 and not [r for r in runtime.records if r.outcome == "throttled"]


def test_memory_past_the_setting_ends_with_out_of_memory(runtime):
    fine = runtime.invoke("fleet-hog", json.dumps({"mb": 16}))
    assert fine.function_error is None
    result = runtime.invoke("fleet-hog", json.dumps({"mb": 400}))
    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Runtime.OutOfMemory"
    # The environment ended with it: the next invocation is a cold start.
    runtime.invoke("fleet-hog", json.dumps({"mb": 1}))
    assert runtime.records[-1].init_ms is not None


def test_an_init_failure_is_reported_as_lambda_reports_it(runtime):
    result = runtime.invoke("fleet-broken", "{}")
    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Runtime.ImportModuleError"
    assert "the module fails at import" in result.json()["errorMessage"]


def test_the_context_counts_down_the_functions_own_timeout(runtime):
    answer = runtime.invoke("fleet-sleeper", "{}").json()
    assert 4000 < answer["remaining_ms"] <= 5000


def test_botocore_still_makes_each_sessions_data_loader_with_the_factory_the_zygote_shares():
    # The zygote shares one parsed copy of botocore's data through this factory (sandbox.py).
    import botocore.session
    from botocore import loaders

    assert botocore.session.create_loader is loaders.create_loader
    made = []
    original = botocore.session.create_loader
    botocore.session.create_loader = lambda *args: made.append(args) or original(*args)
    try:
        botocore.session.Session().get_component("data_loader")
    finally:
        botocore.session.create_loader = original
    assert len(made) == 1


def test_start_end_report_and_the_functions_own_lines_land_in_its_log_group(cloud, test_functions):
    cloud.runtime.invoke("fleet-env-echo-red", json.dumps({"names": ["COLOR"]}))
    cloud.runtime.invoke("fleet-env-echo-red", json.dumps({"names": ["COLOR"]}))
    cloud.runtime.invoke("fleet-late-writer", json.dumps({"id": "t", "sleep_s": 2}))  # times out
    cloud.telemetry.flush()
    logs = cloud.client("logs")
    [stream] = logs.describe_log_streams(logGroupName="/aws/lambda/fleet-env-echo-red")["logStreams"]
    assert "/[$LATEST]" in stream["logStreamName"]
    messages = [e["message"] for e in logs.get_log_events(logGroupName="/aws/lambda/fleet-env-echo-red",
                                                           logStreamName=stream["logStreamName"])["events"]]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(reports) == 2 and "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    assert [m.split(" ")[0] for m in messages] == ["INIT_START", "START", "END", "REPORT", "START", "END", "REPORT"]
    timed_out = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/fleet-late-writer")["events"]]
    assert any("Task timed out after 1.00 seconds" in m for m in timed_out)


def test_per_function_metrics_in_cloudwatch(cloud, test_functions):
    from datetime import UTC, datetime, timedelta

    for _ in range(2):
        cloud.runtime.invoke("fleet-sleeper", "{}")
    cloud.runtime.invoke("fleet-broken", "{}")
    cloud.telemetry.flush()
    cw = cloud.client("cloudwatch")
    now = datetime.now(UTC)

    def total(name: str, function: str) -> float:
        points = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=name, Statistics=["Sum"], Period=3600,
                                          Dimensions=[{"Name": "FunctionName", "Value": function}],
                                          StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1))
        return sum(p["Sum"] for p in points["Datapoints"])

    assert total("Invocations", "fleet-sleeper") == 2 and total("Errors", "fleet-sleeper") == 0
    assert total("Errors", "fleet-broken") == 1
    assert total("Duration", "fleet-sleeper") > 0 and total("ConcurrentExecutions", "fleet-sleeper") >= 2


def test_one_function_never_holds_every_environment(test_functions):
    # Four environments on this machine: a function whose calls all hang (the API's `?wait`) gets
    # at most half, and another function still runs at once.
    slow = dataclasses.replace(test_functions["fleet-sleeper"], reserved_concurrency=None)
    test_functions["fleet-slow"] = dataclasses.replace(slow, logical_id="Slow")
    runtime = LambdaRuntime(RealClock(), workers=4)
    try:
        calls = [threading.Thread(target=runtime.invoke, args=("fleet-slow", json.dumps({"sleep_s": 1.5})))
                 for _ in range(4)]
        for call in calls:
            call.start()
        deadline = time.monotonic() + 10
        while runtime.environments.live_count(test_functions["fleet-slow"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        answer = runtime.invoke("fleet-env-echo-red", json.dumps({"names": ["COLOR"]}))
        assert answer.json() == {"COLOR": "red"}
        assert runtime.environments.live_count(test_functions["fleet-slow"]) == 2
        assert runtime.busy() >= 4  # the other two wait for an environment, not throttled
        for call in calls:
            call.join()
    finally:
        runtime.shutdown()
        del test_functions["fleet-slow"]
