"""`--target sfn-local` and `fleet sfn-local deploy`, and `fleet lambda-endpoint` as a user runs it.

Without Step Functions Local here, the target is exercised against a stand-in that speaks the same
Step Functions API on a loopback port: the local cloud behind moto's server (what `fleet up`
serves). What is under test is fleet's side: creating and updating the state machines there with
the local substitutions, then running, tracing and inspecting through the public API only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from tests.servers import ROOT, fleet_up, free_port
from workflows import cli
from workflows.definitions import catalog
from workflows.local.cloud import definition
from workflows.local.server import bind_aws_endpoint, url
from workflows.targets import EndpointTarget, stepfunctions
from workflows.targets.sfn_local import deploy, with_dependencies

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
       "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88}
REGISTER = catalog.workflow("register")


@pytest.fixture(scope="module")
def stand_in(shared_fleet) -> Iterator[str]:
    """An endpoint speaking the Step Functions API, standing in for Step Functions Local."""
    server = bind_aws_endpoint("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield url(server)
    server.shutdown()
    server.server_close()


def test_deploy_creates_what_is_missing_updates_what_changed_and_leaves_the_rest(stand_in):
    sfn = EndpointTarget(stand_in).client("stepfunctions")
    arns = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    sfn.delete_state_machine(stateMachineArn=arns["fleet-register-car"])
    sfn.update_state_machine(stateMachineArn=arns["fleet-dispatch-car"],
                             definition=json.dumps({"StartAt": "Stale", "States": {"Stale": {"Type": "Succeed"}}}))

    done = dict(deploy(sfn))

    assert done == {"fleet-register-car": "created", "fleet-dispatch-car": "updated", "fleet-maintain-car": "unchanged"}
    for sm in catalog.STATE_MACHINES:
        arn = stepfunctions.state_machine_arn(sfn, sm)
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == json.loads(definition(sm))


def test_definitions_name_the_lambda_arns_step_functions_local_forwards_to_its_lambda_endpoint():
    text = definition(REGISTER)
    assert "arn:aws:lambda:us-east-1:123456789012:function:fleet-validate-car" in text
    assert '"fleet-cars"' in text and "${" not in text


def test_a_run_deploys_the_state_machine_and_what_it_starts():
    assert with_dependencies(REGISTER) == (REGISTER,)
    dispatch = catalog.workflow("dispatch")
    if "MaintainCarStateMachineArn" in dispatch.placeholders():
        assert {sm.logical_id for sm in with_dependencies(dispatch)} == {"DispatchCar", "MaintainCar"}


def test_run_on_the_target_creates_the_state_machine_on_first_use_and_reports(stand_in, capsys):
    sfn = EndpointTarget(stand_in).client("stepfunctions")
    sfn.delete_state_machine(stateMachineArn=stepfunctions.state_machine_arn(sfn, REGISTER))

    code = cli.main(["run", "register", "--target", "sfn-local", "--endpoint-url", stand_in,
                     "--test-case", "RetryPath", "--input", json.dumps(CAR)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "SUCCEEDED" in out and '"outcome": "CarRegistered"' in out
    assert "InspectCar (2 retries: TransientInspectionError)" in out
    [execution] = sfn.list_executions(stateMachineArn=stepfunctions.state_machine_arn(sfn, REGISTER))["executions"]
    assert execution["status"] == "SUCCEEDED"


def test_a_failed_test_case_exits_1_with_its_error(stand_in, capsys):
    code = cli.main(["run", "register", "--target", "sfn-local", "--endpoint-url", stand_in,
                     "--test-case", "CatchToDLQ", "--input", json.dumps(CAR)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in out and "TransientInspectionError" in out and "SendToDLQ" in out


def test_the_same_request_and_test_case_twice_is_one_execution(stand_in, capsys):
    args = ["run", "register", "--target", "sfn-local", "--endpoint-url", stand_in, "--test-case", "HappyPath",
            "--input", json.dumps({**CAR, "vin": "JH4KA7561PC008269"})]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert cli.main(args) == 0
    assert capsys.readouterr().out.splitlines()[0] == first.splitlines()[0]  # the same execution ARN


def test_sfn_local_endpoint_env_is_the_default_endpoint(stand_in, capsys, monkeypatch):
    monkeypatch.setenv("SFN_LOCAL_ENDPOINT", stand_in)
    assert cli.main(["sfn-local", "deploy"]) == 0
    out = capsys.readouterr().out
    assert stand_in in out and "fleet-register-car" in out


def test_unreachable_step_functions_local_is_one_line_and_exit_4(capsys, monkeypatch):
    monkeypatch.setenv("FLEET_READY_WAIT_S", "0")
    port = free_port()
    code = cli.main(["run", "register", "--target", "sfn-local", "--endpoint-url", f"http://127.0.0.1:{port}",
                     "--input", json.dumps(CAR)])
    err = capsys.readouterr().err
    assert code == 4
    assert err.startswith(f"fleet: no Step Functions Local answers at http://127.0.0.1:{port}") and err.count("\n") == 1


def test_ephemeral_and_sfn_local_do_not_combine(capsys):
    assert cli.main(["run", "register", "--target", "sfn-local", "--ephemeral", "--input", "{}"]) == 2
    assert "--ephemeral" in capsys.readouterr().err


def test_test_cases_lists_the_mock_configuration(capsys):
    assert cli.main(["sfn-local", "test-cases"]) == 0
    out = capsys.readouterr().out
    assert "MockConfigFile.json" in out and "HappyPath" in out and "CatchToDLQ" in out


# --- `fleet lambda-endpoint` as its own process, its functions' AWS calls going to `fleet up` ---------


def test_lambda_endpoint_process_serves_the_functions_against_fleet_up():
    stack = fleet_up()
    port = free_port()
    endpoint = subprocess.Popen(
        [sys.executable, "-m", "workflows", "lambda-endpoint", "--port", str(port), "--aws-endpoint-url",
         stack.aws_endpoint], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"})
    try:
        banner = _read_until_ready(endpoint)
        assert f"LAMBDA_ENDPOINT=http://127.0.0.1:{port}" in banner and stack.aws_endpoint in banner
        assert "warning" not in banner  # it found `fleet up` answering
        lam = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=Config(retries={"total_max_attempts": 1}))
        event = {"version": "0", "id": "e-1", "detail-type": "CarStatusChanged", "source": "fleet.cars",
                 "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
                 "detail": {"car_id": "car-E2E", "status": "REGISTERING", "version": 1,
                            "at": "2026-01-01T00:00:00Z", "reason": "registration started"}}
        response = lam.invoke(FunctionName="fleet-record-car-event", Payload=json.dumps(event))
        payload = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        assert payload == {"car_id": "car-E2E", "version": 1, "recorded": True}

        # The handler's DynamoDB write went to `fleet up`, through AWS_ENDPOINT_URL.
        ddb = boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        item = ddb.get_item(TableName="fleet-car-history", Key={"car_id": {"S": "car-E2E"}, "version": {"N": "1"}})
        assert item["Item"]["status"]["S"] == "REGISTERING"
    finally:
        endpoint.send_signal(signal.SIGTERM)
        assert endpoint.wait(timeout=20) == 0  # stops cleanly on SIGTERM
        assert stack.stop() == 0


def _read_until_ready(proc: subprocess.Popen, timeout_s: float = 60) -> str:
    lines = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "ready" in line or proc.poll() is not None:
            break
    assert proc.poll() is None, f"fleet {proc.args[3]} did not start:\n" + "".join(lines)
    # Keep draining its output so a chatty server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return "".join(lines)
