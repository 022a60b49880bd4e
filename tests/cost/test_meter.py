"""The meter that measures what each Lambda does inside, and the sample built on it."""

from __future__ import annotations

import boto3
import botocore.client
from botocore.stub import Stubber

from workflows.cost.meter import Meter
from workflows.cost.sample import run_sample
from workflows.local import sandbox


def test_the_meter_listens_on_botocores_public_events():
    """botocore still emits the events an execution environment records a function's calls on,
    with the arguments it reads: an upgrade that changes either fails here."""
    seen = []
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    for event in sandbox.SDK_CALL_EVENTS:
        client.meta.events.register(event, lambda event_name, **kwargs: seen.append((event_name, sorted(kwargs))))
    with Stubber(client) as stub:
        stub.add_response("list_queues", {"QueueUrls": []})
        client.list_queues()
    assert [name for name, _ in seen] == ["before-parameter-build.sqs.ListQueues", "after-call.sqs.ListQueues"]
    assert {"params", "model", "context"} <= set(seen[0][1]) and {"parsed", "context", "http_response"} <= set(seen[1][1])


def test_meter_counts_the_calls_a_handler_makes_and_only_those(cloud):
    from workflows.demo.scenarios import Scenarios

    original = botocore.client.BaseClient._make_api_call
    with Meter(cloud) as meter:
        assert botocore.client.BaseClient._make_api_call is original  # public hooks only
        Scenarios(cloud, prefix="METERCAR").register()
        meter.settle()
        cloud.client("dynamodb").list_tables()  # not in a handler: not counted
        profiles, calls = meter.profiles(), meter.calls()
    assert botocore.client.BaseClient._make_api_call is original
    assert meter._observe not in cloud.runtime.observers
    assert profiles["ValidateCar"].invocations == 1 and profiles["InspectCar"].invocations == 1
    # The audit consumer ran once per event and wrote the car's history (one PutItem each).
    assert profiles["RecordCarEvent"].invocations == 2
    assert calls["RecordCarEvent"] == {"dynamodb:PutItem": 2}
    assert profiles["RecordCarEvent"].units.ddb_write_units == 1
    assert "ValidateCar" not in calls  # it calls nothing
    assert all(p.billed_ms >= 1 for p in profiles.values())


def test_sample_of_every_workflow():
    sample = run_sample(counts={"register": 2, "dispatch": 1, "maintenance": 1})
    assert {w: len(x) for w, x in sample.executions.items()} == {"register": 2, "dispatch": 1, "maintenance": 1}
    for runs in sample.executions.values():
        assert all(r.status == "SUCCEEDED" for r in runs), [(r.workflow, r.status, r.execution_arn) for r in runs]
    [dispatch] = sample.executions["dispatch"]
    assert dispatch.transitions == 11 and dispatch.express_blocker
    start_trip = next(r for r in dispatch.lambdas if r.function == "StartTrip")
    # A .waitForTaskToken task bills the function's run, up to TaskSubmitted, not the wait for the trip.
    assert start_trip.duration_ms < dispatch.duration_ms
    [maintenance] = sample.executions["maintenance"]
    assert sum(1 for r in maintenance.lambdas if r.function == "RunCheck") >= 1
    assert maintenance.transitions == maintenance.states  # the Map's iterations are states entered too
    assert sample.profiles["StartTrip"].units.events >= 1
