"""The local cloud's state kept across restarts (workflows/local/state_store.py): what one local
cloud acknowledged is there when the next one starts on the same state directory; an execution
left running ends ABORTED, visibly and redrivably, and its car is released like any abort's."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Fleet
from tests.workflows.fleet_steps import car_request, register, ride, wait_until_waiting
from workflows.definitions import catalog
from workflows.definitions.catalog import Ref
from workflows.local.cloud import RESTART_CAUSE, LocalCloud, resolve
from workflows.local.state_store import ExecutionRecord, Retention, StateStore, StateStoreError

CARS = catalog.table("Cars").table_name


def _started(state_dir: Path) -> LocalCloud:
    return LocalCloud(virtual_time=True, state_dir=state_dir).start()


def test_items_messages_and_ended_executions_survive_a_restart(tmp_path: Path) -> None:
    cloud = _started(tmp_path)
    try:
        fleet = Fleet(cloud)
        [car_id] = register(fleet, car_request(1))
        fleet.ddb.delete_item(TableName=CARS, Key={"car_id": {"S": "car-never-there"}})
        dlq = resolve(Ref("queue", "Dlq", "url"))
        fleet.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"kept": 1}))
        gone = fleet.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"kept": 0}))
        received = fleet.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
        fleet.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=next(
            m["ReceiptHandle"] for m in received if m["MessageId"] == gone["MessageId"]))
        arn = fleet.sfn.list_executions(stateMachineArn=cloud.state_machine_arn("register"))["executions"][0]["executionArn"]
        assert cloud.runtime.wait_for_async(20)  # the audit consumer's writes land before the snapshot
        before = {
            "car": fleet.item("Cars", car_id=car_id),
            "describe": _without_metadata(fleet.sfn.describe_execution(executionArn=arn)),
            "history": fleet.sfn.get_execution_history(executionArn=arn)["events"],
            "tables": {t.logical_id: sorted(map(str, fleet.items(t.logical_id))) for t in catalog.TABLES},
        }
    finally:
        cloud.stop()

    cloud = _started(tmp_path)
    try:
        fleet = Fleet(cloud)
        assert cloud.restored.aborted == []
        assert fleet.item("Cars", car_id=car_id) == before["car"]
        assert {t.logical_id: sorted(map(str, fleet.items(t.logical_id))) for t in catalog.TABLES} == before["tables"]
        assert _without_metadata(fleet.sfn.describe_execution(executionArn=arn)) == before["describe"]
        assert fleet.sfn.get_execution_history(executionArn=arn)["events"] == before["history"]
        assert [json.loads(m) for m in _bodies(fleet)] == [{"kept": 1}]
        # The same name and input after the restart is the same execution, as before it.
        listed = fleet.sfn.list_executions(stateMachineArn=cloud.state_machine_arn("register"))["executions"]
        assert [e["executionArn"] for e in listed] == [arn]
    finally:
        cloud.stop()


def test_an_execution_running_at_the_stop_ends_aborted_and_publishes_it(tmp_path: Path, monkeypatch: Any) -> None:
    from workflows.local.adapter.fixes import execution_status_change_events as status_events

    published: list[dict[str, Any]] = []
    real_publish = status_events.publish

    def publish(execution: Any) -> None:  # the real publication, seen on its way
        published.append(status_events.status_change_detail(execution))
        real_publish(execution)

    monkeypatch.setattr(status_events, "publish", publish)
    cloud = _started(tmp_path)
    try:
        fleet = Fleet(cloud)
        register(fleet, car_request(2))
        arn = fleet.start("dispatch", ride("ride-restart-1"))
        wait_until_waiting(fleet, "ride-restart-1")
    finally:
        cloud.stop()  # a stop keeps nothing after it: the store still says RUNNING, as after kill -9

    published.clear()
    cloud = _started(tmp_path)
    try:
        fleet = Fleet(cloud)
        assert cloud.restored.aborted == [arn]
        described = fleet.sfn.describe_execution(executionArn=arn)
        assert (described["status"], described["cause"]) == ("ABORTED", RESTART_CAUSE)
        events = fleet.sfn.get_execution_history(executionArn=arn)["events"]
        assert events[-1]["type"] == "ExecutionAborted"
        assert events[-1]["executionAbortedEventDetails"]["cause"] == RESTART_CAUSE
        # The ABORTED status change is published as any abort's (what releases the ride's car),
        # and says the execution is redrivable.
        [detail] = [d for d in published if d["executionArn"] == arn]
        assert (detail["status"], detail["cause"], detail["redriveStatus"]) == ("ABORTED", RESTART_CAUSE, "REDRIVABLE")
        assert json.loads(detail["input"]) == ride("ride-restart-1")
    finally:
        cloud.stop()


def test_a_third_start_does_not_abort_again(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.write_execution(ExecutionRecord("arn:x", "arn:sm", "x", "STANDARD", "RUNNING", 1.0, None, "{}"))
    store.close()
    for _ in range(2):
        cloud = _started(tmp_path)
        cloud.stop()  # the execution's machine is not the fleet's: kept, not listed
    store = StateStore(tmp_path)
    assert store.execution("arn:x").status == "RUNNING"
    store.close()


def test_retention_forgets_the_oldest_ended_executions(tmp_path: Path) -> None:
    store = StateStore(tmp_path, Retention(max_executions=3, max_age_s=3600))
    now = time.time()
    for n in range(5):
        store.write_execution(ExecutionRecord(f"arn:{n}", "arn:sm", str(n), "STANDARD", "SUCCEEDED",
                                              now - 10 + n, now - 9 + n, "{}", "{}"), [])
    store.write_execution(ExecutionRecord("arn:old", "arn:sm", "old", "STANDARD", "FAILED", now - 7200, now - 7200, "{}"), [])
    store.write_execution(ExecutionRecord("arn:run", "arn:sm", "run", "STANDARD", "RUNNING", now - 7200, None, "{}"))
    assert sorted(store.prune()) == ["arn:0", "arn:1", "arn:old"]
    assert [r.arn for r in store.executions()] == ["arn:run", "arn:2", "arn:3", "arn:4"]


def test_one_commit_of_many_writers_keeps_each_keys_last_write(tmp_path: Path) -> None:
    """Writes queued together are committed as a few multi-row statements: the rows are the ones
    the writes made one by one would leave."""
    store = StateStore(tmp_path)
    store.write_items([("T", "kept", "old"), ("T", "gone", "x")])
    queued = [store.submit_items([("T", f"k{n}", json.dumps({"n": n}))]) for n in range(450)]  # three statements
    queued += [store.submit_items([("T", "kept", "new"), ("T", "gone", None), ("T", "back", None)]),
               store.submit_items([("T", "back", "again"), ("U", "k1", "other table")]),
               store.submit_messages("q", [("m1", 1, "one"), ("m2", 2, "two")], []),
               store.submit_messages("q", [("m3", 3, "three")], ["m1"])]
    for pending in queued:
        store.settle(pending)
    items = dict(((table, json.loads(item)["n"]) if item.startswith("{") else (table, item), None)
                 for table, _, item in store.items())
    assert len([key for key in items if key[0] == "T" and isinstance(key[1], int)]) == 450
    assert ("T", "new") in items and ("T", "again") in items and ("U", "other table") in items
    assert ("T", "old") not in items and ("T", "x") not in items
    assert [(mid, message) for _, mid, message in store.messages()] == [("m2", "two"), ("m3", "three")]


def test_history_keeps_dates_and_bytes(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    store = StateStore(tmp_path)
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    history: list[dict[str, Any]] = [{"timestamp": moment, "type": "ExecutionStarted", "blob": b"\x00\x01"}]
    store.write_execution(ExecutionRecord("arn:h", "arn:sm", "h", "STANDARD", "SUCCEEDED", 1.0, 2.0, "{}", "{}"), history)
    assert store.history("arn:h") == history


def test_a_state_directory_that_cannot_be_used_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StateStoreError, match="cannot use state directory"):
        StateStore(blocker)


def test_one_local_cloud_per_state_directory(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    try:
        with pytest.raises(StateStoreError, match=r"is in use by process \d+"):
            StateStore(tmp_path)
    finally:
        store.close()
    StateStore(tmp_path).close()  # free again once the first is closed


def _bodies(fleet: Fleet) -> list[str]:
    dlq = resolve(Ref("queue", "Dlq", "url"))
    messages = fleet.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [m["Body"] for m in messages]


def _without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}



def test_a_string_output_is_kept_as_json_text(tmp_path: Path) -> None:
    from workflows.local.cloud import STATE_MACHINE_ROLE

    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": "done", "End": True}}})
    cloud = _started(tmp_path)
    try:
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(name="says-done", definition=definition, roleArn=STATE_MACHINE_ROLE)
        arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]
        assert cloud.wait(arn)["status"] == "SUCCEEDED"
        assert sfn.describe_execution(executionArn=arn)["output"] == '"done"'
    finally:
        cloud.stop()


def test_an_ended_execution_keeps_its_input_and_output_in_the_store_not_in_memory(tmp_path: Path) -> None:
    from workflows.local.adapter.design.durable_state import EndedExecution
    from workflows.local.cloud import STATE_MACHINE_ROLE

    definition = json.dumps({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Parameters": {"got.$": "$.big"},
                                                                     "End": True}}})
    big = "x" * 50_000
    cloud = _started(tmp_path)
    try:
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(name="echoes", definition=definition, roleArn=STATE_MACHINE_ROLE)
        arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"big": big}))["executionArn"]
        assert cloud.wait(arn)["status"] == "SUCCEEDED"
        described = sfn.describe_execution(executionArn=arn)
        assert json.loads(described["input"]) == {"big": big} and json.loads(described["output"]) == {"got": big}
        held = [e for e in _sfn_backend(cloud).describe_state_machine(machine["stateMachineArn"]).executions
                if e.execution_arn == arn]
        assert len(held) == 1 and isinstance(held[0], EndedExecution)
        assert all(big not in str(getattr(held[0], slot)) for slot in EndedExecution.__slots__)
        assert not hasattr(held[0], "__dict__")
    finally:
        cloud.stop()


def test_the_last_ends_are_described_from_memory_and_older_ones_from_the_store(tmp_path: Path, monkeypatch: Any) -> None:
    """A client that waited for an end describes the execution at once: that answer needs no read
    of the store. Only the last RECENT_ENDS ends are held so; an older one is read back whole."""
    from workflows.local.adapter.design import durable_state
    from workflows.local.cloud import STATE_MACHINE_ROLE

    monkeypatch.setattr(durable_state, "RECENT_ENDS", 2)
    definition = json.dumps({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}})
    cloud = _started(tmp_path)
    try:
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(name="echoes", definition=definition, roleArn=STATE_MACHINE_ROLE)
        arns = []
        for n in range(4):
            arns.append(sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"n": n}))["executionArn"])
            cloud.wait(arns[-1])
        store = durable_state.attached()
        assert store is not None
        reads: list[str] = []
        read = store.execution
        monkeypatch.setattr(store, "execution", lambda arn: reads.append(arn) or read(arn))
        assert json.loads(sfn.describe_execution(executionArn=arns[-1])["output"]) == {"n": 3}
        assert reads == []
        assert json.loads(sfn.describe_execution(executionArn=arns[0])["output"]) == {"n": 0}
        assert reads and set(reads) == {arns[0]}
        assert len(durable_state._recent_ends) == 2
    finally:
        cloud.stop()


def test_commits_go_through_the_writer_and_keep_the_wal_bounded(tmp_path: Path) -> None:
    """One-row commits (each a statement of its own, through workflows/local/sqlite_writer.py,
    which does not checkpoint) leave a WAL that stops growing: the store checkpoints it."""
    from workflows.local import sqlite_writer

    store = StateStore(tmp_path)
    probe = sqlite_writer.open_writer(tmp_path / "state.sqlite3", "")
    assert probe is not None  # this machine's SQLite loads as the store uses it
    probe.close()
    wal = tmp_path / "state.sqlite3-wal"
    sizes = []
    for n in range(3_000):
        store.write_items([("T", f"k{n}", json.dumps({"n": n, "pad": "x" * 1_000}))])
        if n in (599, 2_999):
            sizes.append(wal.stat().st_size)
    assert len(list(store.items())) == 3_000
    assert sizes[1] <= 2 * sizes[0], sizes


def test_an_item_is_read_back_through_the_binding_that_keeps_the_gil(tmp_path: Path, monkeypatch: Any) -> None:
    """A cold item read inside a request goes through sqlite_writer (the sqlite3 module lets go of
    the GIL for each read, and every request waiting on it then waits for the switch interval),
    and sees what was committed through the other connection."""
    from workflows.local import sqlite_writer

    reads = []
    text = sqlite_writer.Writer.text
    monkeypatch.setattr(sqlite_writer.Writer, "text", lambda self, sql, values: reads.append(values) or text(self, sql, values))
    store = StateStore(tmp_path)
    store.write_items([("T", "k1", '{"n":{"N":"1"}}')])
    assert store.item("T", "k1") == '{"n":{"N":"1"}}'
    store.write_items([("T", "k1", '{"n":{"N":"2"}}')])
    assert store.item("T", "k1") == '{"n":{"N":"2"}}'
    assert store.item("T", "missing") is None
    assert reads == [["T", "k1"], ["T", "k1"], ["T", "missing"]]
    store.close()


def test_a_value_the_store_cannot_write_is_refused_and_loses_nothing(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.write_items([("T", "before", "kept")])
    with pytest.raises(TypeError, match="cannot write a object"):
        store.write_items([("T", "bad", object())])  # type: ignore[list-item]
    store.write_items([("T", "after", "kept too")])
    assert sorted(item for _, _, item in store.items()) == ["kept", "kept too"]


def _sfn_backend(cloud: LocalCloud) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from workflows.local.local_aws import ACCOUNT_ID

    return stepfunctions_parser_backends[ACCOUNT_ID]["us-east-1"]


def test_resources_a_client_defined_survive_a_restart_with_their_contents(tmp_path: Path) -> None:
    """Tables, queues, state machines and rules created through the AWS API (as `aws dynamodb
    create-table` against the endpoint would), with what they hold; one deleted stays deleted."""
    role = "arn:aws:iam::123456789012:role/user-role"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    cloud = _started(tmp_path)
    try:
        ddb, sqs, sfn, events = (cloud.client(s) for s in ("dynamodb", "sqs", "stepfunctions", "events"))
        for name in ("user-notes", "user-scratch"):
            ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="user-notes", Item={"id": {"S": "n1"}, "text": {"S": "kept"}})
        ddb.delete_table(TableName="user-scratch")
        queue = sqs.create_queue(QueueName="user-jobs", Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="job-1")
        machine = sfn.create_state_machine(name="user-machine", definition=definition, roleArn=role)["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, name="first", input="{}")["executionArn"]
        assert cloud.wait(execution)["status"] == "SUCCEEDED"
        events.put_rule(Name="user-rule", EventPattern=json.dumps({"source": ["user.app"]}))
        events.put_targets(Rule="user-rule", Targets=[{"Id": "jobs", "Arn": "arn:aws:sqs:us-east-1:123456789012:user-jobs"}])
    finally:
        cloud.stop()

    cloud = _started(tmp_path)
    try:
        ddb, sqs, sfn, events = (cloud.client(s) for s in ("dynamodb", "sqs", "stepfunctions", "events"))
        assert cloud.restored.definitions >= 7
        assert ddb.get_item(TableName="user-notes", Key={"id": {"S": "n1"}})["Item"]["text"] == {"S": "kept"}
        assert "user-scratch" not in ddb.list_tables()["TableNames"]
        queue = sqs.get_queue_url(QueueName="user-jobs")["QueueUrl"]
        assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
            "VisibilityTimeout": "45"}
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]] == ["job-1"]
        machine = sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:user-machine")
        assert machine["definition"] == definition
        listed = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
        assert [(e["name"], e["status"]) for e in listed] == [("first", "SUCCEEDED")]
        assert [t["Id"] for t in events.list_targets_by_rule(Rule="user-rule")["Targets"]] == ["jobs"]
    finally:
        cloud.stop()


def _zipped(source: str) -> str:
    import base64
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return base64.b64encode(buffer.getvalue()).decode()


def test_functions_created_with_the_lambda_api_survive_a_restart_with_their_latest_code(tmp_path: Path) -> None:
    """CreateFunction, UpdateFunctionCode and DeleteFunction are kept as they are answered."""
    cloud = _started(tmp_path)
    try:
        functions = cloud.runtime.functions
        for name in ("user-echo", "user-scratch"):
            functions.create({"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
                              "Role": "arn:aws:iam::123456789012:role/user", "Environment": {"Variables": {"GREETING": "hi"}},
                              "Code": {"ZipFile": _zipped("def handler(event, context):\n    return {'v': 1}\n")}})
        functions.update_code("user-echo", {"ZipFile": _zipped(
            "import os\ndef handler(event, context):\n    return {'v': 2, 'greeting': os.environ['GREETING'], 'got': event}\n")})
        functions.delete("user-scratch")
    finally:
        cloud.stop()

    cloud = _started(tmp_path)
    try:
        assert [f.name for f in cloud.runtime.functions.all()] == ["user-echo"]
        answer = cloud.runtime.invoke("user-echo", json.dumps({"n": 7}))
        assert answer.error_code is None and answer.json() == {"v": 2, "greeting": "hi", "got": {"n": 7}}
    finally:
        cloud.stop()


def test_no_client_sees_an_execution_end_before_the_store_keeps_it(tmp_path: Path, monkeypatch) -> None:
    """moto sets an execution's end before the state store can commit it: a DescribeExecution in
    between would show an end that a crash at that moment loses. The read waits for the commit."""
    import threading

    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    cloud = _started(tmp_path)
    try:
        store = cloud.store
        slow = threading.Event()
        real_write = type(store).write_execution

        def slow_end(self, record, history=None):
            if record.status != "RUNNING":
                slow.set()
                time.sleep(0.5)  # the commit of the end, slowed: a read now must wait for it
            return real_write(self, record, history)

        monkeypatch.setattr(type(store), "write_execution", slow_end)
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(name="ends", definition=definition,
                                           roleArn="arn:aws:iam::123456789012:role/user")["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        assert slow.wait(10)
        seen = sfn.describe_execution(executionArn=arn)["status"]  # asked while the end is being written
        kept = store.execution(arn)
        assert seen == "SUCCEEDED" and kept is not None and kept.status == "SUCCEEDED"
        listed = sfn.list_executions(stateMachineArn=machine)["executions"]
        assert [e["status"] for e in listed] == ["SUCCEEDED"]
    finally:
        cloud.stop()


def _held(cloud: LocalCloud, table: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from workflows.local.local_aws import ACCOUNT_ID

    return dynamodb_backends[ACCOUNT_ID]["us-east-1"].tables[table].items


def _stored(held: Any) -> int:
    from workflows.local.adapter.design.compact_items import STORED

    values = [v for part in held.held.values() for v in part.held.values()] if held.range_key_attr else list(held.held.values())
    return sum(value is STORED for value in values)


def test_a_durable_clouds_cold_items_are_read_from_the_store_not_held(tmp_path: Path, monkeypatch: Any) -> None:
    """With a state store, an item not used lately is only its key in memory (design.compact_items
    STORED): every request still answers with the item as last written, an item cooled by the
    very request that changed it included, and a restart holds every item that way from the start."""
    from workflows.local.adapter.design import compact_items

    monkeypatch.setattr(compact_items, "HOT_ITEMS", 3)
    cloud = _started(tmp_path)
    try:
        ddb = cloud.client("dynamodb")
        ddb.create_table(TableName="user-log", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "v", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                               {"AttributeName": "v", "AttributeType": "N"}])
        expected = {}
        for n in range(40):
            item = {"id": {"S": f"k{n % 4}"}, "v": {"N": str(n)}, "text": {"S": f"entry {n}"}}
            ddb.put_item(TableName="user-log", Item=item)
            expected[(f"k{n % 4}", n)] = item
        # One request changes an item and cools it (more items than HOT_ITEMS after it): its new
        # content is written after it was cooled, and must be what is read.
        changed = {"id": {"S": "k0"}, "v": {"N": "0"}, "text": {"S": "changed"}}
        ddb.batch_write_item(RequestItems={"user-log": [{"PutRequest": {"Item": item}} for item in (
            changed, *({"id": {"S": "k9"}, "v": {"N": str(n)}} for n in range(5)))]})
        expected[("k0", 0)] = changed
        expected.update({("k9", n): {"id": {"S": "k9"}, "v": {"N": str(n)}} for n in range(5)})
        for _ in range(30):  # requests on the table check cold items against the store
            ddb.get_item(TableName="user-log", Key={"id": {"S": "k9"}, "v": {"N": "4"}})
        held = _held(cloud, "user-log")
        assert _stored(held) >= 35
        assert ddb.get_item(TableName="user-log", Key={"id": {"S": "k0"}, "v": {"N": "0"}})["Item"] == changed
        scanned = ddb.scan(TableName="user-log")["Items"]
        assert {(i["id"]["S"], int(i["v"]["N"])): i for i in scanned} == expected
        queried = ddb.query(TableName="user-log", KeyConditionExpression="id = :k AND v BETWEEN :a AND :b",
                            ExpressionAttributeValues={":k": {"S": "k1"}, ":a": {"N": "5"}, ":b": {"N": "21"}})["Items"]
        assert [int(i["v"]["N"]) for i in queried] == [5, 9, 13, 17, 21]
        ddb.update_item(TableName="user-log", Key={"id": {"S": "k2"}, "v": {"N": "2.0"}},  # the number 2, as DynamoDB compares
                        UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "text"},
                        ExpressionAttributeValues={":t": {"S": "updated"}})
        gone = ddb.delete_item(TableName="user-log", Key={"id": {"S": "k3"}, "v": {"N": "3"}}, ReturnValues="ALL_OLD")
        assert gone["Attributes"] == expected.pop(("k3", 3))
        expected[("k2", 2)] = {**expected[("k2", 2)], "text": {"S": "updated"}}
    finally:
        cloud.stop()

    cloud = _started(tmp_path)
    try:
        ddb = cloud.client("dynamodb")
        assert _stored(_held(cloud, "user-log")) == len(expected)  # nothing parsed until asked for
        scanned = ddb.scan(TableName="user-log")["Items"]
        assert {(i["id"]["S"], int(i["v"]["N"])): i for i in scanned} == expected
        assert ddb.get_item(TableName="user-log", Key={"id": {"S": "k2"}, "v": {"N": "2"}})["Item"]["text"] == {"S": "updated"}
    finally:
        cloud.stop()


def test_stored_items_keep_their_identity_through_backups_long_numbers_and_a_table_made_again(
        tmp_path: Path, monkeypatch: Any) -> None:
    """Keys that differ past the 28th digit stay two items; a backup of a table whose items are in
    the store restores every one; a table deleted and made again starts empty after a restart
    (its old rows are gone with it)."""
    from workflows.local.adapter.design import compact_items

    monkeypatch.setattr(compact_items, "HOT_ITEMS", 2)
    close = ["1.00000000000000000000000000000001", "1.00000000000000000000000000000002"]
    cloud = _started(tmp_path)
    try:
        ddb = cloud.client("dynamodb")
        for name in ("user-readings", "user-scratch"):
            ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                                   {"AttributeName": "at", "AttributeType": "N"}])
        for n, at in enumerate([*close, *map(str, range(10))]):
            ddb.put_item(TableName="user-readings", Item={"id": {"S": "r"}, "at": {"N": at}, "n": {"N": str(n)}})
            ddb.put_item(TableName="user-scratch", Item={"id": {"S": "s"}, "at": {"N": at}})
        for _ in range(20):
            ddb.get_item(TableName="user-readings", Key={"id": {"S": "r"}, "at": {"N": "9"}})
        assert _stored(_held(cloud, "user-readings")) >= 8
        backup = ddb.create_backup(TableName="user-readings", BackupName="readings-backup")["BackupDetails"]["BackupArn"]
        ddb.restore_table_from_backup(TargetTableName="user-readings-copy", BackupArn=backup)
        assert len(ddb.scan(TableName="user-readings-copy")["Items"]) == 12
        ddb.delete_table(TableName="user-scratch")
        ddb.create_table(TableName="user-scratch", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                               {"AttributeName": "at", "AttributeType": "N"}])
    finally:
        cloud.stop()

    cloud = _started(tmp_path)
    try:
        ddb = cloud.client("dynamodb")
        for n, at in enumerate(close):
            item = ddb.get_item(TableName="user-readings", Key={"id": {"S": "r"}, "at": {"N": at}})["Item"]
            assert item["n"] == {"N": str(n)}
        assert len(ddb.scan(TableName="user-readings")["Items"]) == 12
        assert ddb.scan(TableName="user-scratch")["Items"] == []
    finally:
        cloud.stop()
