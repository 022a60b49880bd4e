"""The local cloud is us-east-1 with dummy credentials whatever the user's AWS configuration says:
another default region, a profile that does not exist, a ~/.aws/config whose [default] names
another region and an endpoint that answers nothing. Every command and the demo work as usual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT, fleet_up

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}
DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens


def hostile_aws_settings(home: Path) -> dict[str, str]:
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    (aws / "config").write_text(f"[default]\nregion = eu-west-1\nendpoint_url = {DEAD_ENDPOINT}\n"
                                "[profile other]\nregion = ap-south-1\n")
    (aws / "credentials").write_text("[default]\naws_access_key_id = AKIAREALLOOKING\naws_secret_access_key = x\n")
    return {"HOME": str(home), "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_PROFILE": "missing",
            "AWS_ENDPOINT_URL": DEAD_ENDPOINT, "AWS_ENDPOINT_URL_DYNAMODB": DEAD_ENDPOINT}


@pytest.fixture(scope="module")
def hostile_env(tmp_path_factory) -> dict[str, str]:
    return hostile_aws_settings(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def stack(hostile_env):
    up = fleet_up(env=hostile_env)
    yield up
    assert up.stop() == 0


def fleet(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "workflows", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **env})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_every_command_against_fleet_up_ignores_the_users_aws_settings(stack, hostile_env):
    endpoint = ["--endpoint-url", stack.aws_endpoint]
    run = fleet("run", "register", "--input", json.dumps(CAR), *endpoint, env=hostile_env)
    assert run.returncode == 0, run.stderr
    assert "SUCCEEDED" in run.stdout and "arn:aws:states:us-east-1:123456789012:" in run.stdout

    cars = fleet("cars", *endpoint, env=hostile_env)
    assert cars.returncode == 0 and "car-1HGCM82633A004352" in cars.stdout, cars.stderr
    car = fleet("car", "car-1HGCM82633A004352", *endpoint, env=hostile_env)
    assert car.returncode == 0 and "AVAILABLE" in car.stdout, car.stderr
    dlq = fleet("dlq", "list", *endpoint, env=hostile_env)
    assert dlq.returncode == 0, dlq.stderr
    arn = next(w for w in run.stdout.split() if w.startswith("arn:aws:states:us-east-1:123456789012:execution:"))
    trace = fleet("trace", arn, *endpoint, env=hostile_env)
    assert trace.returncode == 0 and "CarRegistered" in trace.stdout, trace.stderr


def test_the_rest_api_of_fleet_up_runs_its_functions_in_us_east_1(stack):
    # fleet up itself was started with the hostile settings: its functions' SDK calls still land
    # in the local cloud (a dead endpoint or a missing profile would make this a 502).
    import urllib.request

    request = urllib.request.Request(f"{stack.api_url}/cars?wait=20", data=json.dumps({**CAR, "vin": "JH4KA7561PC008269"}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert response.status == 201 and body["outcome"] == "CarRegistered"
    assert body["execution_arn"].startswith("arn:aws:states:us-east-1:123456789012:execution:")


def test_a_client_signed_for_another_region_sees_the_local_cloud(stack):
    # What `aws --endpoint-url ...` does with the user's eu-west-1: the one local region answers.
    import boto3

    for region in ("eu-west-1", "ap-south-1"):
        ddb = boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name=region,
                           aws_access_key_id="AKIAANYTHING", aws_secret_access_key="anything")
        assert "fleet-cars" in ddb.list_tables()["TableNames"]
        sfn = boto3.client("stepfunctions", endpoint_url=stack.aws_endpoint, region_name=region,
                           aws_access_key_id="AKIAANYTHING", aws_secret_access_key="anything")
        arns = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
        assert "arn:aws:states:us-east-1:123456789012:stateMachine:fleet-register-car" in arns


def test_an_ephemeral_run_and_the_demo_ignore_them_too(hostile_env, tmp_path):
    run = fleet("run", "register", "--ephemeral", "--input", json.dumps(CAR), env=hostile_env)
    assert run.returncode == 0 and "SUCCEEDED" in run.stdout, run.stderr
    demo = subprocess.run([sys.executable, "-m", "workflows", "demo"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **hostile_env, "PYTHONPATH": str(ROOT)})
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "Traceback" not in demo.stderr


def test_a_local_client_reads_nothing_from_the_users_environment(hostile_env, monkeypatch):
    from workflows.local import local_aws

    for name, value in hostile_env.items():
        monkeypatch.setenv(name, value)
    client = local_aws.session().client("sqs")
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == "https://sqs.us-east-1.amazonaws.com"
    credentials = local_aws.session().get_credentials()
    assert (credentials.access_key, credentials.secret_key) == ("testing", "testing")


def test_a_process_hosting_the_local_cloud_gets_a_sandboxs_aws_environment(hostile_env):
    env = {**hostile_env, "PATH": "/usr/bin", "AWS_ENDPOINT_URL_SQS": DEAD_ENDPOINT, "FLEET_LOG_LEVEL": "INFO"}
    from workflows.local import local_aws

    local_aws.isolate_process(env)
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-east-1"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    assert not {"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"} & set(env)
    assert env["PATH"] == "/usr/bin" and env["FLEET_LOG_LEVEL"] == "INFO" and env["HOME"] == hostile_env["HOME"]
