"""The Lambda API on `fleet up`'s AWS endpoint: the fleet's functions listed and invoked as on
AWS, a function created the AWS way from a Python zip, its code updated, deleted; its logs in
CloudWatch Logs. With boto3, and with the AWS CLI when the project's venv has it."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.servers import fleet_up
from workflows.definitions import catalog
from workflows.local.names import resolve

GOOD = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}


@pytest.fixture(scope="module")
def stack():
    up = fleet_up()
    yield up
    assert up.stop() == 0


def client(stack: Any, service: str) -> Any:
    return boto3.client(service, endpoint_url=stack.aws_endpoint, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 0}))


def zipped(source: str, module: str = "app") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


def test_the_fleets_functions_are_listed_and_described(stack):
    lam = client(stack, "lambda")
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert {"fleet-validate-car", "fleet-inspect-car", "fleet-fleet-api"} <= names and len(names) >= 19
    config = lam.get_function(FunctionName="fleet-start-trip")["Configuration"]
    start_trip = catalog.function("StartTrip")
    assert config["Timeout"] == start_trip.timeout_s and config["Runtime"].startswith("python3.")
    assert config["Environment"]["Variables"] == {k: resolve(v) if isinstance(v, catalog.Ref) else v
                                                  for k, v in start_trip.environment.items()}
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="fleet-no-such-function")


def test_invoke_request_response_event_and_dry_run(stack):
    lam = client(stack, "lambda")
    answer = lam.invoke(FunctionName="fleet-validate-car", Payload=json.dumps(GOOD), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["car_id"] == "car-1HGCM82633A004352"
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "START RequestId:" in tail and "REPORT RequestId:" in tail and "Billed Duration:" in tail
    failed = lam.invoke(FunctionName="fleet-validate-car", Payload=json.dumps({**GOOD, "year": 1900}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "CarValidationError"
    assert lam.invoke(FunctionName="fleet-validate-car", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    assert lam.invoke(FunctionName="fleet-validate-car", InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName="fleet-validate-car", Qualifier="$LATEST", Payload=json.dumps(GOOD))["StatusCode"] == 200


def test_a_function_created_from_a_zip_runs_in_its_own_environment(stack):
    lam = client(stack, "lambda")
    source = "import os, sys\n\ndef handler(event, context):\n    print('hello from the zip')\n" \
             "    return {'greeting': os.environ['GREETING'] + ' ' + event['name'], 'python': sys.version}\n"
    created = lam.create_function(FunctionName="hello", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/x",
                                  Handler="app.handler", Code={"ZipFile": zipped(source)}, Timeout=5,
                                  Environment={"Variables": {"GREETING": "hi"}})
    assert created["Runtime"] == "python3.12" and created["CodeSize"] > 0
    try:
        answer = json.loads(lam.invoke(FunctionName="hello", Payload=json.dumps({"name": "car"}))["Payload"].read())
        assert answer["greeting"] == "hi car"
        with pytest.raises(lam.exceptions.ResourceConflictException):
            lam.create_function(FunctionName="hello", Runtime="python3.12", Role="r", Handler="app.handler",
                                Code={"ZipFile": zipped(source)})
        lam.update_function_code(FunctionName="hello", ZipFile=zipped("def handler(event, context):\n    return 'v2'\n"))
        assert json.loads(lam.invoke(FunctionName="hello")["Payload"].read()) == "v2"
        # Its log group has the first version's line and the cold start's INIT_START naming the interpreter.
        logs = client(stack, "logs")
        deadline = time.monotonic() + 10
        messages: list[str] = []
        while time.monotonic() < deadline and not any("hello from the zip" in m for m in messages):
            time.sleep(0.2)
            try:
                events = logs.filter_log_events(logGroupName="/aws/lambda/hello")["events"]
            except logs.exceptions.ResourceNotFoundException:
                continue
            messages = [e["message"] for e in events]
        assert any("hello from the zip" in m for m in messages)
        assert any(m.startswith("INIT_START Runtime Version: python3.12 (runs on this machine's python3.") for m in messages)
    finally:
        lam.delete_function(FunctionName="hello")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="hello")


def test_a_runtime_that_is_not_python_is_refused_in_one_line(stack):
    lam = client(stack, "lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="only Python"):
        lam.create_function(FunctionName="js", Runtime="nodejs20.x", Role="r", Handler="index.handler",
                            Code={"ZipFile": zipped("x", "index")})


def _aws_cli() -> str:
    """The project's AWS CLI (requirements/dev.txt), beside this interpreter."""
    beside = Path(sys.executable).with_name("aws")
    return str(beside) if beside.exists() else shutil.which("aws") or "aws"


def test_the_aws_cli_lists_and_invokes(stack, tmp_path):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    aws = [_aws_cli(), "--endpoint-url", stack.aws_endpoint, "--output", "json"]
    listed = subprocess.run([*aws, "lambda", "list-functions"], capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "fleet-validate-car" in {f["FunctionName"] for f in json.loads(listed.stdout)["Functions"]}
    out = tmp_path / "out.json"
    invoked = subprocess.run([*aws, "lambda", "invoke", "--function-name", "fleet-validate-car",
                              "--payload", json.dumps(GOOD), str(out)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text())["car_id"] == "car-1HGCM82633A004352"
