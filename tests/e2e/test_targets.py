"""One Target for every command: `--target` is accepted wherever a command reads or changes a stack,
names resolve per target (a deployed stack's outputs on AWS), the local endpoint uses the local
account whatever the user's AWS configuration says, a silent endpoint is a one-line error after its
timeout, and a command started right after `fleet up &` waits for it to listen."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.e2e.test_cli import fleet
from tests.servers import ROOT, free_port
from workflows.cli.entry import build_parser, main
from workflows.definitions import catalog, naming
from workflows.definitions.catalog import Ref
from workflows.targets import AwsTarget, EndpointTarget, StepFunctionsLocalTarget, Target, TargetError

# Commands that run something of their own rather than talk to a stack.
SELF_CONTAINED = {("up",), ("demo",), ("lambda-endpoint",), ("load",), ("lab", "concurrency"), ("sfn-local", "deploy"),
                  ("sfn-local", "test-cases")}


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from commands(child, prefix + (name,))


def test_every_command_that_talks_to_a_stack_takes_target_endpoint_and_stack():
    found = dict(commands(build_parser()))
    assert set(found) >= SELF_CONTAINED and len(found) > len(SELF_CONTAINED) + 8
    for name, parser in found.items():
        if name in SELF_CONTAINED:
            continue
        options = {o for a in parser._actions for o in a.option_strings}
        assert {"--target", "--endpoint-url", "--stack"} <= options, name


def test_select_refuses_what_does_not_combine():
    with pytest.raises(TargetError, match="does not combine with --endpoint-url"):
        Target.select("aws", endpoint_url="http://127.0.0.1:4566")
    with pytest.raises(TargetError, match="--stack goes with --target aws"):
        Target.select("local", stack="CarFleet")
    for bad in ("ftp://127.0.0.1:4566", "https://", "http://127.0.0.1:70000", "127.0.0.1:4566"):
        with pytest.raises(TargetError, match="URL"):
            Target.select("local", endpoint_url=bad)


def test_local_endpoints_use_the_local_account_whatever_the_users_configuration(monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    for key, value in {"AWS_PROFILE": "no-such-profile", "AWS_DEFAULT_REGION": "ap-south-1",
                       "AWS_ACCESS_KEY_ID": "AKIAREALKEY", "AWS_SECRET_ACCESS_KEY": "real-secret",
                       "AWS_CONFIG_FILE": str(config), "FLEET_READY_WAIT_S": "0"}.items():
        monkeypatch.setenv(key, value)
    for target in (EndpointTarget(f"http://127.0.0.1:{free_port()}"),
                   StepFunctionsLocalTarget(f"http://127.0.0.1:{free_port()}")):
        for service in ("stepfunctions", "dynamodb", "sqs"):
            client = target.client(service)
            assert client.meta.region_name == "us-east-1"
            assert client._request_signer._credentials.access_key == "testing"
    sfn_local = StepFunctionsLocalTarget("http://127.0.0.1:8083", "http://127.0.0.1:4566")
    assert sfn_local.endpoint_for("stepfunctions") == "http://127.0.0.1:8083"
    assert sfn_local.endpoint_for("dynamodb") == "http://127.0.0.1:4566"


@pytest.fixture
def deployed(monkeypatch):
    """moto standing in for AWS: a stack whose outputs name the fleet's table and queue under the
    names a deployment gives them (not the local ones)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        cars = "Fleet-Test-CarsTable-1A2B"
        ddb.create_table(TableName=cars, KeySchema=[{"AttributeName": "car_id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "car_id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName=cars, Item={
            "car_id": {"S": "car-DEPLOYED0000000001"}, "vin": {"S": "DEPLOYED000000001"}, "model": {"S": "Robotaxi S"},
            "year": {"N": "2024"}, "seats": {"N": "4"}, "status": {"S": "AVAILABLE"}, "version": {"N": "2"},
            "battery_pct": {"N": "90"}, "odometer_km": {"N": "0"},
            "location": {"M": {"lat": {"N": "52.5"}, "lon": {"N": "13.4"}}},
            "created_at": {"S": "2026-01-01T00:00:00Z"}, "updated_at": {"S": "2026-01-01T00:00:00Z"}})
        # The operators' view of the DLQ: its Failures table, with one open failure.
        failures = "Fleet-Test-FailuresTable-1A2B"
        ddb.create_table(TableName=failures, KeySchema=[{"AttributeName": "failure_id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"}
                                               for k in ("failure_id", "status", "failed_at")],
                         GlobalSecondaryIndexes=[{"IndexName": "status-index", "Projection": {"ProjectionType": "ALL"},
                                                  "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                                                {"AttributeName": "failed_at", "KeyType": "RANGE"}]}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName=failures, Item={
            "failure_id": {"S": "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"}, "status": {"S": "open"},
            "failed_at": {"S": "2026-01-01T00:00:00.000Z"}, "workflow": {"S": "register"},
            "execution_arn": {"S": "arn:aws:states:us-east-1:123456789012:execution:Fleet-Test-RegisterCar:reg-1"},
            "failed_state": {"S": "InspectCar"}, "error": {"S": "TransientInspectionError"}})
        dlq = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="Fleet-Test-Dlq-9Z")["QueueUrl"]
        outputs = {naming.output_key(Ref("table", t.logical_id, "name")): f"Fleet-Test-{t.logical_id}Table-1A2B"
                   for t in catalog.TABLES if t.logical_id != "Idempotency"}
        outputs[naming.output_key(Ref("queue", "Dlq", "url"))] = dlq
        template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                    "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="Fleet-Test",
                                                                             TemplateBody=json.dumps(template))
        yield outputs


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_on_aws_names_come_from_the_stack_outputs(deployed, capsys):
    target = AwsTarget("Fleet-Test")
    assert target.table_name("Cars") == "Fleet-Test-CarsTable-1A2B"
    assert target.queue_url("Dlq").endswith("/Fleet-Test-Dlq-9Z")
    with pytest.raises(TargetError, match="is not the fleet's stack"):
        target.table_name("Idempotency")

    assert main(["cars", "--target", "aws", "--stack", "Fleet-Test"]) == 0
    assert "car-DEPLOYED0000000001" in capsys.readouterr().out
    assert main(["dlq", "list", "--target", "aws", "--stack", "Fleet-Test", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["workflow"], listed["status"]) == ("0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", "register", "open")
    assert main(["dlq", "list", "--target", "aws", "--stack", "Fleet-Test"]) == 0
    assert "failures not yet redriven (1)" in capsys.readouterr().out
    assert main(["cars", "--target", "aws", "--stack", "Elsewhere"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("fleet: stack Elsewhere") and len(err.strip().splitlines()) == 1


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        held: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(server.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
        stop.set()
        thread.join()
        for conn in held:
            conn.close()


def test_a_silent_endpoint_is_one_line_after_the_read_timeout(silent_endpoint):
    proc = fleet("cars", "--endpoint-url", silent_endpoint, env={"FLEET_READ_TIMEOUT_S": "0.5", "FLEET_READY_WAIT_S": "0"})
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.strip() == f"fleet: {silent_endpoint} did not answer within 0.5 s"


def test_a_command_right_after_fleet_up_waits_for_it_to_listen():
    aws_port, api_port = free_port(), free_port()
    up = subprocess.Popen([sys.executable, "-m", "workflows", "up", "--aws-port", str(aws_port), "--api-port",
                           str(api_port), "--ephemeral"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc = fleet("cars", "--endpoint-url", f"http://127.0.0.1:{aws_port}", env={"FLEET_READY_WAIT_S": "60"})
        assert proc.returncode == 0, proc.stderr
        assert "cars (0)" in proc.stdout
    finally:
        up.terminate()
        assert up.wait(timeout=30) == 0


def test_an_endpoint_that_drops_connections_is_one_line():
    """What a `fleet up` stopping under a command looks like: connections closed unanswered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        stop = threading.Event()

        def slam() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                try:
                    server.accept()[0].close()
                except OSError:
                    continue

        thread = threading.Thread(target=slam, daemon=True)
        thread.start()
        try:
            proc = fleet("trace", "anything", "--endpoint-url", f"http://127.0.0.1:{server.getsockname()[1]}",
                         env={"FLEET_READY_WAIT_S": "0"})
        finally:
            stop.set()
            thread.join()
    assert proc.returncode == 4 and proc.stderr.startswith("fleet: ") and proc.stderr.count("\n") == 1, proc.stderr
