"""The `fleet` CLI as a user runs it: `fleet up` in its own process, `fleet run` against it,
boto3 seeing the same state, and one-line errors with exit 2 for bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import boto3
import pytest

from tests.servers import ROOT, fleet_up, free_port

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}


def fleet(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def stack():
    up = fleet_up()
    yield up.aws_endpoint, up.banner
    assert up.stop() == 0  # stops cleanly on SIGTERM


def aws(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_up_prints_what_it_deployed(stack):
    endpoint, banner = stack
    assert "fleet-register-car" in banner and "fleet-cars" in banner and endpoint in banner


def test_run_register_against_the_stack_and_see_it_with_boto3(stack):
    endpoint, _ = stack
    proc = fleet("run", "register", "--input", json.dumps(CAR), "--endpoint-url", endpoint)
    assert proc.returncode == 0, proc.stderr
    assert "SUCCEEDED" in proc.stdout and "CarRegistered" in proc.stdout
    assert "ValidateCar > PersistCar > InspectCar" in proc.stdout

    sfn = aws(endpoint, "stepfunctions")
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "fleet-register-car"]
    executions = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    assert [e["status"] for e in executions] == ["SUCCEEDED"]
    item = aws(endpoint, "dynamodb").get_item(TableName="fleet-cars", Key={"car_id": {"S": "car-1HGCM82633A004352"}})
    assert item["Item"]["status"]["S"] == "AVAILABLE"


def test_failed_execution_exits_1_with_error_and_cause(stack, tmp_path):
    endpoint, _ = stack
    request = tmp_path / "car.json"
    request.write_text(json.dumps({**CAR, "vin": "TOOSHORT"}))
    proc = fleet("run", "register", "--input", f"@{request}", "--endpoint-url", endpoint)
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout and "CarValidationError" in proc.stdout and "vin:" in proc.stdout


def test_no_wait_prints_the_execution_arn(stack):
    endpoint, _ = stack
    proc = fleet("run", "register", "--input", json.dumps({**CAR, "vin": "JH4KA7561PC008269"}), "--no-wait",
                 "--endpoint-url", endpoint)
    assert proc.returncode == 0
    assert proc.stdout.strip().startswith("arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:")


def test_dlq_is_visible_over_the_endpoint(stack):
    endpoint, _ = stack
    sqs = aws(endpoint, "sqs")
    assert sqs.get_queue_url(QueueName="fleet-dlq")["QueueUrl"].endswith("/fleet-dlq")


def test_dlq_list_sweep_show_redrive_over_the_endpoint(stack):
    """A failure that reached the queue without its row (sent by a definition before RecordFailure):
    not listed until `fleet dlq sweep` records it; then shown by the start of its id and redriven."""
    endpoint, _ = stack
    sqs, sfn = aws(endpoint, "sqs"), aws(endpoint, "stepfunctions")
    [machine] = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "fleet-register-car"]
    failed = machine.replace(":stateMachine:", ":execution:") + ":register-older-definition"
    car = {**CAR, "vin": "WVWZZZ1JZXW000077"}
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="fleet-dlq")["QueueUrl"], MessageBody=json.dumps({
        "execution_arn": failed, "state_machine_arn": machine, "workflow": "register", "failed_state": "InspectCar",
        "error": "TransientInspectionError", "cause": "telemetry down", "input": car,
        "failed_at": "2026-01-01T00:00:00.000Z"}))
    at = ("--endpoint-url", endpoint)

    assert json.loads(fleet("dlq", "list", "--json", *at).stdout) == []
    swept = fleet("dlq", "sweep", "--json", *at)
    assert swept.returncode == 0 and json.loads(swept.stdout) == {"deleted": 0, "recorded": 1, "kept": 1}
    [listed] = json.loads(fleet("dlq", "list", "--json", *at).stdout)
    assert (listed["execution_arn"], listed["status"]) == (failed, "open")
    shown = fleet("dlq", "show", listed["id"][:10], "--json", *at)
    assert shown.returncode == 0 and json.loads(shown.stdout)["input"] == car
    redriven = fleet("dlq", "redrive", listed["id"][:10], *at)
    assert redriven.returncode == 0, redriven.stderr
    assert "started, message deleted" in redriven.stdout
    assert json.loads(fleet("dlq", "list", "--json", *at).stdout) == []
    assert json.loads(fleet("dlq", "sweep", "--json", *at).stdout) == {"deleted": 0, "recorded": 0, "kept": 0}
    assert fleet("dlq", "show", "ffff", *at).returncode == 3


def test_ephemeral_run_needs_no_stack():
    proc = fleet("run", "register", "--input", json.dumps(CAR), "--ephemeral")
    assert proc.returncode == 0, proc.stderr
    assert "CarRegistered" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["run", "register", "--input", "{not json"], "--input is not valid JSON"),
    (["run", "register", "--input", "[1, 2]"], "--input must be a JSON object"),
    (["run", "register", "--input", "@/no/such/file.json"], "cannot read --input file"),
    (["run", "teleport", "--input", "{}"], "unknown workflow 'teleport'"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_exit_2_and_starts_nothing(args, message):
    proc = fleet(*args, env={"FLEET_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr


def test_input_over_the_step_functions_limit_is_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**CAR, "notes": "x" * 300_000}))
    proc = fleet("run", "register", "--input", f"@{big}", "--ephemeral")
    assert proc.returncode == 2
    assert "Step Functions accepts at most 262144" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_no_stack_says_how_to_start_one():
    proc = fleet("run", "register", "--input", json.dumps(CAR), "--endpoint-url", f"http://127.0.0.1:{free_port()}",
                 env={"FLEET_READY_WAIT_S": "0"})
    assert proc.returncode == 4
    assert "fleet up" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_up_on_a_busy_port_is_one_line_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = fleet("up", "--aws-port", str(port), timeout=30)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_demo_takes_a_faults_file_on_top_of_its_own(tmp_path):
    # The compact car's validation is made to fail by a named error: its registration fails into the
    # DLQ beside the demo's own inspection failure.
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"functions": {"ValidateCar": [{"error": "ValidatorDown", "match": {"vin": "JH4KA7561PC008269"}}]}}))
    proc = fleet("demo", "--faults", str(faults), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ValidatorDown" in proc.stdout and "TransientInspectionError" in proc.stdout

    faults.write_text('{"tables": {"Garages": [{"throughput_exceeded": true}]}}')
    bad = fleet("demo", "--faults", str(faults))
    assert bad.returncode == 2 and "Garages" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_demo_prints_the_tables():
    proc = fleet("demo", timeout=120)
    assert proc.returncode == 0, proc.stderr
    for expected in ("executions", "fleet (DynamoDB)", "dead-letter queue", "CarRegistered", "CarAlreadyRegistered",
                     "CarValidationError", "TransientInspectionError", "CarFailedInspection"):
        assert expected in proc.stdout, expected
