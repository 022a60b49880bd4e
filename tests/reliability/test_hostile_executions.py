"""Hostile execution input, started straight through Step Functions' StartExecution (boto3 on the
local cloud) and through `fleet run --input`: every execution ends in a named domain outcome, a
named error or the DLQ, never hangs; the CLI answers bad input with one line and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reliability.hostile import (
    BOUNDED,
    STEP_FUNCTIONS_LIMIT,
    WORKFLOW_INPUTS,
    LongText,
    hostile_events,
    internals_in,
    settle,
)
from tests.servers import ROOT
from workflows.definitions import catalog

WORKFLOWS = [sm.workflow for sm in catalog.STATE_MACHINES]


@pytest.fixture(scope="module")
def empty_cloud(seeded_cloud):
    """The module's local cloud with empty tables: a dispatch finds no car, a maintenance no car, so
    every execution runs to its end instead of waiting for a trip or a sign-off."""
    cloud, tables = seeded_cloud
    tables.reseed({})
    return cloud, tables


@pytest.mark.parametrize("workflow", WORKFLOWS)
@settings(BOUNDED, max_examples=15)
@given(data=st.data())
def test_hostile_input_through_start_execution_ends_named(empty_cloud, workflow, data):
    cloud, tables = empty_cloud
    payload = data.draw(hostile_events(WORKFLOW_INPUTS[workflow]), label="input")
    sfn = cloud.client("stepfunctions")
    text = json.dumps(payload)
    name = f"hostile-{abs(hash(text)) % 10**12}-{data.draw(st.integers(0, 10**6), label='n')}"

    try:
        arn = sfn.start_execution(stateMachineArn=cloud.state_machine_arn(workflow), name=name, input=text)["executionArn"]
    except sfn.exceptions.ClientError as exc:  # refused at the door: a named error, no execution
        assert exc.response["Error"]["Code"] and not internals_in(str(exc)), exc
        return
    settle(cloud, arn, input_is_object=isinstance(payload, dict))
    tables.stop_executions()
    tables.restore()


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_input_over_the_256_kb_limit_ends_named_and_writes_nothing(empty_cloud, workflow):
    cloud, tables = empty_cloud
    payload = {**WORKFLOW_INPUTS[workflow], "padding": LongText("p" * (STEP_FUNCTIONS_LIMIT + 1))}
    sfn = cloud.client("stepfunctions")
    try:
        arn = sfn.start_execution(stateMachineArn=cloud.state_machine_arn(workflow), name=f"oversized-{workflow}",
                                  input=json.dumps(payload))["executionArn"]
    except sfn.exceptions.ClientError:
        return  # AWS refuses it at StartExecution
    assert settle(cloud, arn) in {"States.DataLimitExceeded", "CarValidationError", "RideValidationError",
                                  "MaintenanceRequestError"}
    assert tables.snapshot(("Cars", "Rides", "MaintenanceJobs")) == tables.seeded_view(("Cars", "Rides", "MaintenanceJobs"))


# --- fleet run --input ---------------------------------------------------------------------------


def fleet(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "FLEET_ENDPOINT_URL": "http://127.0.0.1:9"})


def fleet_in_process(capsys, *args: str) -> subprocess.CompletedProcess:
    """The CLI's main() in this process (what `fleet` runs), for the many cases that stop at the input."""
    from workflows.cli.entry import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


NOT_AN_OBJECT = ["[]", "null", "1", "\"car\"", "true", "1e999", "[{\"vin\": 1}]"]
NOT_JSON = ["", " ", "{", "{'vin': 1}", "{\"vin\": }", "{\"year\": NaN}", "{\"year\": -Infinity}",
            "{\"a\": 1} trailing", "\u202e{}", "\x00", "\ud800", "[" * 5000, "{\"a\":" * 3000 + "1" + "}" * 3000,
            "{\"a\":" * 600 + "1" + "}" * 600,  # parses at Python's default recursion limit: refused by depth
            "{\"n\": " + "9" * 5000 + "}"]


@pytest.mark.parametrize("text", NOT_AN_OBJECT + NOT_JSON, ids=lambda t: repr(t[:20]))
def test_fleet_run_refuses_input_that_is_not_a_json_object_in_one_line(capsys, text):
    assert_one_line_refusal(fleet_in_process(capsys, "run", "register", "--input", text))


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"{\"vin\": \"\x00\"}\x00", b"\xed\xa0\x80", b"[]"],
                         ids=["not-utf8", "nul", "encoded-surrogate", "array"])
def test_fleet_run_refuses_an_input_file_it_cannot_read_as_json_in_one_line(capsys, tmp_path, content):
    path = tmp_path / "input.json"
    path.write_bytes(content)
    assert_one_line_refusal(fleet_in_process(capsys, "run", "register", "--input", f"@{path}"), prefix="fleet: ")


def test_fleet_run_refuses_input_over_the_step_functions_limit_in_one_line(capsys, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**WORKFLOW_INPUTS["register"], "model": "m" * (STEP_FUNCTIONS_LIMIT + 1)}))
    done = fleet_in_process(capsys, "run", "register", "--input", f"@{big}")
    assert_one_line_refusal(done)
    assert "Step Functions accepts at most 262144" in done.stderr


def assert_one_line_refusal(done: subprocess.CompletedProcess, prefix: str = "fleet: --input") -> None:
    assert done.returncode == 2, done
    assert done.stdout == "" and done.stderr.count("\n") == 1 and done.stderr.startswith(prefix), done.stderr
    assert not internals_in(done.stderr), done.stderr


def test_the_fleet_process_refuses_hostile_input_in_one_line():
    assert_one_line_refusal(fleet("run", "dispatch", "--input", "[" * 5000))


def test_fleet_run_with_a_hostile_object_ends_in_a_named_failure_not_a_traceback():
    """Through the whole engine (a throwaway cloud): exit 1 and the execution's named error."""
    hostile = {"vin": "\u202e\U0001F697" * 4, "model": "\x00", "year": 1e308, "seats": -0.0, "location": [1, 2],
               "battery_pct": 1e-300, "odometer_km": 2**64}
    done = fleet("run", "register", "--ephemeral", "--timeout", "30", "--input", json.dumps(hostile))
    assert done.returncode == 1, done
    assert "CarValidationError" in done.stdout and "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("name", ["a" * 81, "has space", "slash/name", "\x00nul", "\u202eltr", "\U0001F697", "\ud800",
                                  "arn:aws:states:x", "*", "a" * 80], ids=repr)
def test_hostile_execution_names_are_refused_or_run(empty_cloud, name):
    """AWS refuses such names (InvalidName); the local engine may take them: either way a named
    error at the door, or an execution that ends named."""
    from botocore.exceptions import ClientError, ParamValidationError

    cloud, tables = empty_cloud
    sfn = cloud.client("stepfunctions")
    try:
        arn = sfn.start_execution(stateMachineArn=cloud.state_machine_arn("register"), name=name,
                                  input=json.dumps(WORKFLOW_INPUTS["register"]))["executionArn"]
    except (ClientError, ParamValidationError) as exc:
        assert not internals_in(str(exc)), exc
        return
    settle(cloud, arn)
    tables.stop_executions()
    tables.restore()
