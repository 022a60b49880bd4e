"""The seams the local cloud opens in moto. An upgrade that moves one fails here, loudly."""

from __future__ import annotations

import functools
import importlib
import threading
from datetime import UTC

import moto
import pytest

from workflows.local import adapter
from workflows.local.adapter.design import service_clients
from workflows.local.adapter.fixes import engine_threads_released
from workflows.local.adapter.speedups import answers_as_json, json_copies
from workflows.local.clock import VirtualClock


def test_moto_is_the_version_the_adapter_was_written_for():
    assert moto.__version__ == adapter.MOTO_VERSION
    # Each fix was checked against this version: an upgrade re-checks every one (drop the fixed).
    assert {s.moto_version for s in adapter.SEAMS if s.purpose is adapter.Purpose.FIXES} == {moto.__version__}


def test_every_seam_is_in_place(cloud):
    seams = adapter.seams()
    assert seams == {name: True for name in seams}, seams
    by_purpose = {p: [s.name for s in adapter.SEAMS if s.purpose is p] for p in adapter.Purpose}
    expected = {adapter.Purpose.DESIGN: 12, adapter.Purpose.FIXES: 26, adapter.Purpose.SPEEDUPS: 13}
    assert {p: len(names) for p, names in by_purpose.items()} == expected, by_purpose
    if adapter.seam.speedups_enabled():
        assert len(seams) == sum(expected.values())
    else:
        assert not any(name.startswith("speedups.") for name in seams)
        assert not any(s.installed() for s in adapter.SEAMS if s.purpose is adapter.Purpose.SPEEDUPS)


def test_one_naming_scheme_seam_name_is_its_module():
    """design.x, fixes.y, speedups.z: the name is where the seam lives, and says its purpose."""
    for seam in adapter.SEAMS:
        purpose, module = seam.name.split(".")
        assert purpose == seam.purpose.value
        assert importlib.import_module(f"workflows.local.adapter.{seam.name}").SEAM is seam
        assert seam.why and (seam.corrects is not None) == (seam.purpose is adapter.Purpose.FIXES)


def test_the_adapter_lists_every_seam_it_installs():
    listed = adapter.__doc__ or ""
    assert [s.name for s in adapter.SEAMS if s.name.split(".", 1)[1] not in listed] == []


def test_a_seam_whose_attribute_moto_no_longer_has_fails_loudly():
    class Engine:
        def evaluate(self):
            return "stock"

    moved = adapter.Seam("workflows.local.adapter.design.moved_probe", "a probe")
    seam = adapter.Seam("workflows.local.adapter.design.probe", "a probe")
    try:
        moved.wrap(Engine, "evaluate", lambda original: lambda self: "moved:" + original(self))
        moved.replace(Engine, "renamed_by_an_upgrade", None)
        with pytest.raises(adapter.seam.SeamMoved, match="design.moved_probe.*renamed_by_an_upgrade"):
            moved.install()
        assert Engine().evaluate() == "stock" and not moved.installed()  # all or nothing

        seam.wrap(Engine, "evaluate", lambda original: functools.wraps(original)(lambda self: "seam:" + original(self)))
        seam.install()
        assert Engine().evaluate() == "seam:stock" and seam.installed()
        with seam.removed():
            assert Engine().evaluate() == "stock" and not seam.installed()
        assert Engine().evaluate() == "seam:stock"
    finally:
        seam.remove()
        adapter.SEAMS.remove(seam)
        adapter.SEAMS.remove(moved)


def test_engine_modules_still_ask_boto_client_for_their_clients(cloud):
    """The Lambda, DynamoDB, SQS, EventBridge and Step Functions integrations all get clients
    from the one factory the adapter replaces; if moto renames it, this finds none."""
    users = {m.__name__.rsplit(".", 1)[-1] for m in service_clients.client_users()}
    for integration in ("lambda_eval_utils", "state_task_service_dynamodb", "state_task_service_sqs",
                        "state_task_service_events", "state_task_service_sfn"):
        assert integration in users


def test_virtual_clock_sleep_jumps_and_timed_wait_ends_on_advance():
    clock = VirtualClock()
    t0 = clock.now()
    clock.sleep(3600)
    assert clock.now() - t0 >= 3600
    assert clock.skipped_by_this_thread() == 3600

    event = threading.Event()
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("set", clock.wait(event, 600)))
    waiter.start()
    clock.advance(601)
    waiter.join(timeout=5)
    assert result == {"set": False}  # timed out, in virtual time

    event.set()
    assert clock.wait(event, 600) is True


def test_a_token_answered_before_the_heartbeat_wait_starts_is_not_lost(fleet):
    """StartTrip's Lambda stores the token, so a quick client can answer before the engine has
    set up its heartbeat wait. Stock moto then waits out HeartbeatSeconds; the adapter must not."""
    import time

    from fleet_domain.control import resume
    from fleet_domain.data import base as repositories
    from fleet_domain.data.rides import RideRepository

    assert fleet.run("register", {"vin": "5YJ3E1EA7KF317123", "model": "M", "year": 2024, "seats": 4,
                                  "location": {"lat": 48.1, "lon": 11.5}}).status == "SUCCEEDED"
    arn = fleet.start("dispatch", {"ride_id": "early-1", "pickup": {"lat": 48.1, "lon": 11.5},
                                   "dropoff": {"lat": 48.14, "lon": 11.58}, "passengers": 2})
    for _ in range(2000):  # answer the moment the token is visible: no grace period
        ride = RideRepository().get("early-1")
        if ride is not None and ride.waiting:
            break
        time.sleep(0.001)
    resume.complete_trip(fleet.sfn, repositories.dynamodb(), "early-1", odometer_km=9)
    result = fleet.cloud.wait(arn, timeout_s=20)
    assert result["status"] == "SUCCEEDED"
    assert fleet.cloud.clock.skipped < 600  # never waited out the 600 s heartbeat


def test_history_served_by_the_adapter_is_what_motos_serialiser_answers(fleet):
    """The adapter answers GetExecutionHistory without moto's generic serialiser (a quarter of
    `fleet up`'s CPU under load); the answer must be the same, event for event."""
    car = {"vin": "5YJ3E1EA7KF317124", "model": "M", "year": 2024, "seats": 4, "location": {"lat": 48.1, "lon": 11.5}}
    runs = [fleet.run("register", car), fleet.run("register", {**car, "vin": "5YJ3E1EA7KF31712"}),
            fleet.run("register", {**car, "seats": 5})]  # CarAlreadyRegistered: a caught error
    assert [r.status for r in runs] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    fast = [fleet.sfn.get_execution_history(executionArn=r.execution_arn)["events"] for r in runs]
    with answers_as_json.SEAM.removed():
        stock = [fleet.sfn.get_execution_history(executionArn=r.execution_arn)["events"] for r in runs]
    assert sum(len(events) for events in fast) > 20
    assert fast == stock

    # includeExecutionData=false (moto ignores it): the same events, without inputs and outputs.
    lean = fleet.sfn.get_execution_history(executionArn=runs[0].execution_arn, includeExecutionData=False)["events"]
    assert [e["type"] for e in lean] == [e["type"] for e in fast[0]]
    assert any("input" in str(e) or "output" in str(e) for e in fast[0])
    details = [d for e in lean for k, d in e.items() if k.endswith("EventDetails")]
    assert details and not any(set(d) & {"input", "output", "inputDetails", "outputDetails"} for d in details)


def test_a_cancelled_transaction_leaves_every_item_as_it_was(cloud):
    """The adapter's rollback restores the items a transaction touched (moto copied whole tables)."""
    ddb = cloud.client("dynamodb")
    table = "adapter-transactions"  # not a fleet table: the fleet's invariants are checked after each test
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "car_id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "car_id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=table, Item={"car_id": {"S": "car-a"}, "status": {"S": "AVAILABLE"}, "version": {"N": "1"}})
    transaction = [
        {"Put": {"TableName": table, "Item": {"car_id": {"S": "car-new"}, "status": {"S": "REGISTERING"}}}},
        {"Update": {"TableName": table, "Key": {"car_id": {"S": "car-a"}}, "UpdateExpression": "SET version = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"ConditionCheck": {"TableName": table, "Key": {"car_id": {"S": "car-missing"}},
                            "ConditionExpression": "attribute_exists(car_id)"}},
    ]
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=transaction)
    items = {i["car_id"]["S"]: i for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}
    assert items == {"car-a": {"car_id": {"S": "car-a"}, "status": {"S": "AVAILABLE"}, "version": {"N": "1"}}}

    with pytest.raises(ddb.exceptions.ClientError, match="ValidationException"):  # the same item twice
        ddb.transact_write_items(TransactItems=[transaction[1], transaction[1]])
    assert ddb.get_item(TableName=table, Key={"car_id": {"S": "car-a"}})["Item"]["version"] == {"N": "1"}

    ddb.transact_write_items(TransactItems=transaction[:2])
    assert ddb.get_item(TableName=table, Key={"car_id": {"S": "car-a"}})["Item"]["version"] == {"N": "2"}
    assert "Item" in ddb.get_item(TableName=table, Key={"car_id": {"S": "car-new"}})


def test_dynamodb_reads_served_by_the_adapter_are_what_motos_serialiser_answers(cloud):
    ddb = cloud.client("dynamodb")
    table = "adapter-reads"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     BillingMode="PAY_PER_REQUEST")
    for n in range(30):
        ddb.put_item(TableName=table, Item={
            "pk": {"S": f"car-{n % 3}"}, "sk": {"N": str(n)}, "name": {"S": "Robotaxi ü"}, "ok": {"BOOL": n % 2 == 0},
            "none": {"NULL": True}, "tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2.5"]},
            "where": {"M": {"lat": {"N": "52.5"}, "lon": {"N": "13.4"}, "seen": {"L": [{"S": "x"}, {"N": "1"}]}}}})

    def reads():
        return [
            ddb.get_item(TableName=table, Key={"pk": {"S": "car-1"}, "sk": {"N": "4"}}),
            ddb.get_item(TableName=table, Key={"pk": {"S": "car-1"}, "sk": {"N": "99"}}),
            ddb.query(TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "car-2"}},
                      Limit=4, ScanIndexForward=False),
            ddb.scan(TableName=table, FilterExpression="ok = :t", ExpressionAttributeValues={":t": {"BOOL": True}},
                     ProjectionExpression="pk, sk, #w.lat", ExpressionAttributeNames={"#w": "where"}),
        ]

    fast = reads()
    with answers_as_json.SEAM.removed():
        stock = reads()
    strip = lambda answer: {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    assert [strip(a) for a in fast] == [strip(a) for a in stock]
    assert len(fast[2]["Items"]) == 4 and "LastEvaluatedKey" in fast[2]


def test_one_update_expression_text_serves_many_updates_each_with_its_own_values(cloud):
    """Parses are cached per expression text and shared: the validator must rewrite only its own
    copy, or the second update would write the first one's values."""
    ddb = cloud.client("dynamodb")
    table = "adapter-updates"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "car_id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "car_id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    expression = ("SET #status = :to, #version = if_not_exists(#version, :zero) + :one, trips = "
                  "list_append(if_not_exists(trips, :none), :trip), #where.lat = :lat REMOVE task_token")
    for car in ("car-a", "car-b"):
        ddb.put_item(TableName=table, Item={"car_id": {"S": car}, "where": {"M": {"lat": {"N": "0"}}},
                                            "task_token": {"S": "t"}})
    for n in range(3):
        for car in ("car-a", "car-b"):
            ddb.update_item(
                TableName=table, Key={"car_id": {"S": car}}, UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(#version) OR #version = :seen",
                ExpressionAttributeNames={"#status": "status", "#version": "version", "#where": "where"},
                ExpressionAttributeValues={":to": {"S": f"{car}-status-{n}"}, ":zero": {"N": "0"}, ":one": {"N": "1"},
                                           ":none": {"L": []}, ":trip": {"L": [{"S": f"{car}-trip-{n}"}]},
                                           ":lat": {"N": str(50 + n)}, ":seen": {"N": str(n)}})
    items = {i["car_id"]["S"]: i for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}
    for car in ("car-a", "car-b"):
        assert items[car]["status"] == {"S": f"{car}-status-2"}
        assert items[car]["version"] == {"N": "3"}
        assert items[car]["trips"] == {"L": [{"S": f"{car}-trip-{n}"} for n in range(3)]}
        assert items[car]["where"] == {"M": {"lat": {"N": "52"}}}
    for _ in range(2):  # a malformed expression is refused every time, not cached as a result
        with pytest.raises(ddb.exceptions.ClientError, match="ValidationException"):
            ddb.update_item(TableName=table, Key={"car_id": {"S": "car-a"}}, UpdateExpression="SET = :x",
                            ExpressionAttributeValues={":x": {"S": "x"}})


def test_threads_the_engine_started_are_not_kept_after_they_finish(fleet, monkeypatch):
    from moto.stepfunctions.parser.utils import TMP_THREADS

    monkeypatch.setattr(engine_threads_released, "THREADS_KEPT", 4)
    del TMP_THREADS[:]
    for n in range(6):
        result = fleet.run("register", {"vin": f"1HGCM82633A{n:06d}", "model": "Robotaxi S", "year": 2024,
                                        "seats": 4, "battery_pct": 90})
        assert result.status == "SUCCEEDED"
    assert len(TMP_THREADS) <= 4 + sum(t.is_alive() for t in TMP_THREADS)


def test_the_record_of_ended_executions_keeps_only_the_latest(fleet, monkeypatch):
    from workflows.local.adapter.design import executions

    monkeypatch.setattr(executions, "ENDED_KEPT", 3)
    arns = []
    for n in range(5):
        result = fleet.run("register", {"vin": f"1HGCM82633B{n:06d}", "model": "Robotaxi S", "year": 2024,
                                        "seats": 4, "battery_pct": 90})
        arns.append(result.execution_arn)
    assert len(executions._ended) == 3 and list(executions._ended)[-1] == arns[-1]
    assert executions.wait_for_execution_end(arns[-1], timeout_s=0)


def test_the_engines_json_copies_equal_deepcopy_and_share_nothing():
    import copy
    from collections import OrderedDict
    from datetime import datetime
    from decimal import Decimal

    when = datetime(2026, 11, 24, tzinfo=UTC)
    value = {"car": {"car_id": "car-1", "location": {"lat": 52.5, "lon": 13.4}, "seats": 4, "ok": True,
                     "tags": ["a", {"b": [1, 2.5, None]}], "none": None},
             "odd": [when, Decimal("1.5"), (1, 2), OrderedDict(a=1)], "": ""}
    copied = json_copies.copy_json_value(value)
    assert copied == copy.deepcopy(value) == value
    assert type(copied["odd"][3]) is OrderedDict and type(copied["odd"][2]) is tuple

    def containers(v):
        if isinstance(v, (dict, list)):
            yield v
            for item in (v.values() if isinstance(v, dict) else v):
                yield from containers(item)

    originals = {id(c) for c in containers(value)}
    assert not originals & {id(c) for c in containers(copied)}
    copied["car"]["tags"][1]["b"].append(3)
    assert value["car"]["tags"][1]["b"] == [1, 2.5, None]


def test_a_cloud_keeps_what_it_loaded_out_of_full_collections_until_it_stops():
    import gc

    from workflows.local.cloud import LocalCloud

    assert gc.get_freeze_count() == 0
    with LocalCloud(virtual_time=True) as cloud:
        assert gc.get_freeze_count() > 10_000  # modules, moto's backends, the deployed resources
        assert cloud.client("dynamodb").list_tables()["TableNames"]
    assert gc.get_freeze_count() == 0


def test_moto_batch_loads_on_first_use_not_with_the_engine():
    """The engine imports one enum from moto.batch; Batch's and EC2's backends load only when
    something in moto.batch is used (in a fresh interpreter: this one has loaded the adapter)."""
    import subprocess
    import sys

    probe = ("import sys; from workflows.local import adapter; "
             "before = 'moto.ec2' in sys.modules; from moto.batch import batch_backends; "
             "print(before, 'moto.ec2' in sys.modules, type(batch_backends).__name__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    deferred = adapter.seam.speedups_enabled()  # FLEET_ENGINE_SPEEDUPS=0: moto imports it all with the engine
    assert out == [str(not deferred), "True", "BackendDict"]


def test_a_token_answered_while_an_execution_is_starting_is_answered_not_a_500(cloud):
    """An execution just started has its worker but not yet its evaluation environment (the
    worker's thread makes it): a token answered at that moment must still get AWS's answer."""
    from types import SimpleNamespace

    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
    machine = backend.state_machines[0]
    starting = SimpleNamespace(exec_status=ExecutionStatus.RUNNING, status=ExecutionStatus.RUNNING,
                               exec_worker=SimpleNamespace(env=None))
    machine.executions.append(starting)
    try:
        sfn = cloud.client("stepfunctions")
        for answer in (lambda: sfn.send_task_success(taskToken="no-such-token", output="{}"),
                       lambda: sfn.send_task_failure(taskToken="no-such-token", error="E"),
                       lambda: sfn.send_task_heartbeat(taskToken="no-such-token")):
            with pytest.raises(ClientError) as refused:
                answer()
            assert refused.value.response["Error"]["Code"] == "InvalidToken"
    finally:
        machine.executions.remove(starting)


def test_log_events_and_metric_data_are_bounded_newest_kept(cloud, monkeypatch):
    """A long-running local cloud must not keep every invocation's log lines and metrics."""
    from datetime import datetime, timedelta

    from workflows.local.adapter.design import telemetry_retention

    monkeypatch.setattr(telemetry_retention, "LOG_EVENTS_PER_GROUP", 100)
    monkeypatch.setattr(telemetry_retention, "DATA_PER_METRIC", 50)
    logs, cloudwatch = cloud.client("logs"), cloud.client("cloudwatch")
    logs.create_log_group(logGroupName="/aws/lambda/bounded")
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName="/aws/lambda/bounded", logStreamName=stream)
    import time

    now_ms = int(time.time() * 1000) - 10_000  # CloudWatch Logs refuses events too old
    for n in range(0, 400, 10):  # 400 events in batches of 10, alternating streams
        logs.put_log_events(logGroupName="/aws/lambda/bounded", logStreamName="ab"[n // 10 % 2],
                            logEvents=[{"timestamp": now_ms + i, "message": f"line {i}"} for i in range(n, n + 10)])
    kept = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/bounded", limit=10_000)["events"]]
    assert 100 <= len(kept) <= 125 and "line 399" in kept and "line 0" not in kept

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(200):
        cloudwatch.put_metric_data(Namespace="Bounded", MetricData=[
            {"MetricName": "Busy", "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
             "Timestamp": start + timedelta(seconds=n), "Value": float(n)},
            *([{"MetricName": "Quiet", "Timestamp": start + timedelta(seconds=n), "Value": 1.0}] if n < 10 else [])])

    def stats(name: str, dimensions: list) -> dict:
        [point] = cloudwatch.get_metric_statistics(
            Namespace="Bounded", MetricName=name, Dimensions=dimensions, StartTime=start,
            EndTime=start + timedelta(hours=1), Period=3600, Statistics=["SampleCount", "Sum", "Minimum", "Maximum"])["Datapoints"]
        return point

    busy = stats("Busy", [{"Name": "FunctionName", "Value": "f"}])
    # The newest 50 as put, the older rolled up into one set a minute: the statistics stay exact.
    assert busy == {**busy, "SampleCount": 200.0, "Sum": float(sum(range(200))), "Minimum": 0.0, "Maximum": 199.0}
    assert stats("Quiet", [])["SampleCount"] == 10  # a quiet metric keeps all it has
    from moto.cloudwatch.models import cloudwatch_backends

    from workflows.local.local_aws import ACCOUNT_ID

    held = [d for d in cloudwatch_backends[ACCOUNT_ID]["us-east-1"].metric_data if d.name == "Busy"]
    assert len(held) <= 50 * 5 // 4 + 4  # 200 s of data: at most four minutes rolled up
    from moto.cloudwatch.models import MetricAggregatedDatum

    rolled = [d for d in held if isinstance(d, MetricAggregatedDatum)]
    assert rolled and len({id(d.dimensions) for d in rolled}) == 1  # a metric's minutes share its dimensions


def test_an_item_rewritten_many_times_leaves_one_model_instance_alive(cloud):
    """moto tracked every model instance it made, for its dashboard: each version of an item, each
    log event, each execution's copy of its machine stayed in memory for the process's life."""
    import gc

    from moto.dynamodb.models.dynamo_type import Item

    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(TableName="Rewritten", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    gc.collect()
    before = sum(isinstance(o, Item) for o in gc.get_objects())
    for n in range(200):
        dynamodb.put_item(TableName="Rewritten", Item={"k": {"S": "one"}, "n": {"N": str(n)}})
        dynamodb.update_item(TableName="Rewritten", Key={"k": {"S": "one"}}, UpdateExpression="SET m = :m",
                             ExpressionAttributeValues={":m": {"N": str(n)}})
    gc.collect()
    assert sum(isinstance(o, Item) for o in gc.get_objects()) - before <= 2
    assert not Item.instances_tracked


def test_a_kept_route_and_a_kept_backend_answer_as_moto_does_and_a_reset_registers_again(cloud, monkeypatch):
    from moto.core.base_backend import BackendDict
    from moto.dynamodb.models import dynamodb_backends

    from workflows.local.adapter.speedups import backend_lookup, request_routes
    from workflows.local.local_aws import ACCOUNT_ID

    kept = adapter.seam.speedups_enabled()  # FLEET_ENGINE_SPEEDUPS=0: moto's own matching and lookup
    dynamodb = cloud.client("dynamodb")
    first = dynamodb.list_tables()["TableNames"]
    assert any("dynamodb" in url for url in request_routes._routes) == kept  # learned by the first request
    assert dynamodb.list_tables()["TableNames"] == first  # the kept route answers the same
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):  # and errors as moto's path does
        dynamodb.describe_table(TableName="no-such-table")
    backend = dynamodb_backends[ACCOUNT_ID]
    assert dynamodb_backends[ACCOUNT_ID] is backend
    assert (dynamodb_backends.__dict__.get("_fleet_generation") == backend_lookup._generation) == kept
    # After a reset (a new generation, the registration list cleared) moto's own path runs again.
    monkeypatch.setattr(backend_lookup, "_generation", backend_lookup._generation + 1000)
    monkeypatch.setattr(BackendDict, "_instances", [])
    assert dynamodb_backends[ACCOUNT_ID] is backend and BackendDict._instances == [dynamodb_backends]


def test_an_item_over_the_size_limit_is_refused_and_one_under_it_kept_whole(cloud):
    """The 400 KB item limit holds whether the item is checked once (speedups) or per attribute."""
    from botocore.exceptions import ClientError

    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(TableName="Sized", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    half = "x" * 210_000
    with pytest.raises(ClientError) as refused:  # each attribute fits; the two together do not
        dynamodb.put_item(TableName="Sized", Item={"k": {"S": "big"}, "a": {"S": half}, "b": {"S": half}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Item size has exceeded the maximum allowed size" in refused.value.response["Error"]["Message"]
    assert "Item" not in dynamodb.get_item(TableName="Sized", Key={"k": {"S": "big"}})
    item = {"k": {"S": "small"}, "a": {"S": half}, "n": {"N": "1.5"}, "m": {"M": {"l": {"L": [{"BOOL": True}]}}}}
    dynamodb.put_item(TableName="Sized", Item=item)
    assert dynamodb.get_item(TableName="Sized", Key={"k": {"S": "small"}})["Item"] == item
