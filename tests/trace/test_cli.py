"""`fleet trace` as a user runs it: its own process, against an AWS-compatible endpoint serving the
package's local cloud; plain text when piped, the graph file with --html, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.servers import ROOT, free_port
from workflows.local.server import Servers, bind_aws_endpoint, url

from .test_html import Page


@pytest.fixture(scope="module")
def endpoint(traced) -> Iterator[str]:
    servers = Servers()
    server = bind_aws_endpoint("127.0.0.1", free_port())
    servers.serve(server, "trace-tests-aws-endpoint")
    yield url(server)
    servers.shutdown()


def fleet(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "FLEET_READY_WAIT_S": "0"}
    return subprocess.run([sys.executable, "-m", "workflows", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)


def test_trace_by_name_shows_retries_catch_and_the_error_and_writes_the_graph(traced, endpoint, tmp_path):
    name = traced.arns["register_dlq"].rsplit(":", 1)[-1]
    out = tmp_path / "graphs" / "dlq.html"
    proc = fleet("trace", name, "--endpoint-url", endpoint, "--html", str(out))
    assert proc.returncode == 1, proc.stderr  # the execution failed
    text = proc.stdout
    assert "\x1b[" not in text  # plain text when piped
    assert f"execution  {name}  (fleet-register-car)" in text
    assert "status     FAILED" in text
    lines = text.splitlines()
    [inspect] = [line for line in lines if " InspectCar Task " in line]
    assert "caught TransientInspectionError -> InspectCarFailed after 3 retries" in inspect
    attempts = [line for line in lines if "attempt " in line]
    assert len(attempts) == 4 and all("TransientInspectionError: telemetry link timed out" in a for a in attempts)
    assert any("RegistrationFailed Fail" in line and "failed TransientInspectionError" in line for line in lines)
    assert "error      TransientInspectionError" in text
    assert "cause      TransientInspectionError: telemetry link timed out" in text
    assert f"graph      {out}" in text
    assert "InspectCar" in Page(out.read_text()).nodes


def test_trace_by_arn_of_a_waiting_trip_and_the_output(traced, endpoint):
    proc = fleet("trace", traced.arns["dispatch_trip"], "--endpoint-url", endpoint)
    assert proc.returncode == 0, proc.stderr
    assert "status     SUCCEEDED" in proc.stdout
    assert "task token" in proc.stdout and "came back" in proc.stdout
    assert 'output     {"outcome": "TripCompleted"' in proc.stdout


def test_unknown_execution_and_bad_combinations_are_one_line_errors(endpoint):
    proc = fleet("trace", "no-such-execution", "--endpoint-url", endpoint)
    assert proc.returncode == 3
    assert proc.stderr.startswith("fleet: no execution named 'no-such-execution' or starting so "
                                  "(searched: fleet-register-car")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = fleet("trace", "x", "--target", "aws", "--endpoint-url", endpoint)
    assert (proc.returncode, proc.stderr.strip()) == (
        2, "fleet: --target aws talks to AWS itself; it does not combine with --endpoint-url")
    proc = fleet("trace", "x", "--stack", "CarFleet", "--endpoint-url", endpoint)
    assert (proc.returncode, proc.stderr.strip()) == (2, "fleet: --stack goes with --target aws")
    proc = fleet("trace", "x", "--endpoint-url", f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 4 and "answers at http://127.0.0.1:" in proc.stderr


@pytest.fixture(scope="module")
def fleet_stack(traced) -> str:
    """A stand-in for the deployed stack in the package's (moto) cloud: its outputs name the fleet's
    state machines, as the CDK app's do."""
    import json

    import boto3

    from workflows.definitions import catalog, naming
    from workflows.definitions.catalog import Ref

    outputs = {naming.output_key(Ref("state_machine", sm.logical_id, "arn")):
               {"Value": traced.machine_arns[sm.workflow]} for sm in catalog.STATE_MACHINES}
    template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="Fleet-Trace",
                                                                         TemplateBody=json.dumps(template))
    return "Fleet-Trace"


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_on_aws_a_name_is_looked_for_in_the_stacks_state_machines(traced, fleet_stack, capsys):
    from workflows.cli.entry import main

    name = traced.arns["maintenance_parts_down"].rsplit(":", 1)[-1]
    assert main(["trace", name, "--target", "aws", "--stack", fleet_stack]) == 1
    out = capsys.readouterr().out
    assert f"execution  {name}  (fleet-maintain-car)" in out and "caught PartsSupplierDown -> PrepareRepairFailed" in out

    assert main(["trace", traced.arns["register_happy"], "--target", "aws"]) == 0  # an ARN needs no stack
    assert "status     SUCCEEDED" in capsys.readouterr().out

    assert main(["trace", name, "--target", "aws", "--stack", "NoSuchStack"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("fleet: stack NoSuchStack") and len(err.strip().splitlines()) == 1
