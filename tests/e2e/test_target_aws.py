"""`fleet run --target aws`: names come from the deployed stack's CloudFormation outputs.
No AWS account here, so the 'deployed stack' is moto's CloudFormation and Step Functions, with a
stand-in state machine under the name the CDK app gives it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from workflows.cli.entry import main
from workflows.definitions import catalog, naming
from workflows.definitions.catalog import Ref

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4}
STAND_IN = {"StartAt": "Registered", "States": {"Registered": {"Type": "Pass", "Result": {"outcome": "CarRegistered"},
                                                                "End": True}}}


@pytest.fixture
def deployed_stack(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        sm = catalog.workflow("register")
        arn = sfn.create_state_machine(name=naming.state_machine_name("Fleet-Test", sm), definition=json.dumps(STAND_IN),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
        outputs = {naming.output_key(Ref("state_machine", sm.logical_id, "arn")): {"Value": arn}}
        template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}, "Outputs": outputs}
        boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="Fleet-Test",
                                                                             TemplateBody=json.dumps(template))
        yield arn


def test_run_on_the_deployed_stack_uses_its_outputs(deployed_stack, capsys):
    code = main(["run", "register", "--input", json.dumps(CAR), "--target", "aws", "--stack", "Fleet-Test"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SUCCEEDED" in out and "CarRegistered" in out
    assert deployed_stack.replace(":stateMachine:", ":execution:") in out


def test_an_unknown_stack_is_one_line_exit_4(deployed_stack, capsys):
    code = main(["run", "register", "--input", json.dumps(CAR), "--target", "aws", "--stack", "NoSuchStack"])
    err = capsys.readouterr().err
    assert code == 4 and "NoSuchStack" in err and len(err.strip().splitlines()) == 1


def test_a_stack_without_the_fleet_outputs_is_refused(deployed_stack, capsys):
    template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(StackName="Other", TemplateBody=json.dumps(template))
    code = main(["run", "register", "--input", json.dumps(CAR), "--target", "aws", "--stack", "Other"])
    err = capsys.readouterr().err
    assert code == 4 and "not the fleet's stack" in err
