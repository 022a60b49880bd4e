"""AWS's front-door rules, as the local cloud applies them (workflows/local/aws_rules.py): unknown
operations, the models' constraints with AWS's wording, Step Functions' byte limits and naming
rule, a UUID for an unnamed execution."""

from __future__ import annotations

import uuid

import pytest

from workflows.local.aws_rules import Refusal, check

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:fleet-register-car"


def refusal(result) -> Refusal:
    assert isinstance(result, Refusal), result
    return result


def test_an_operation_the_api_does_not_have_is_unknown():
    assert refusal(check("stepfunctions", "CallAction", {})).code == "UnknownOperationException"
    assert refusal(check("sqs", "CallAction", {}, protocol="query")).code == "InvalidAction"
    assert check("stepfunctions", "ListStateMachines", {}) == {}


def test_a_service_botocore_does_not_know_is_left_alone():
    assert check("no-such-service", "Anything", {"a": 1}) == {"a": 1}


@pytest.mark.parametrize("operation,params,member,limit", [
    ("StartExecution", {"stateMachineArn": ARN, "name": "n", "input": "x" * 262145}, "input", 262144),
    ("StartExecution", {"stateMachineArn": ARN, "name": "n", "input": '"' + "é" * 131072 + '"'}, "input", 262144),
    ("SendTaskSuccess", {"taskToken": "t", "output": "x" * 262145}, "output", 262144),
    ("CreateStateMachine", {"name": "sm", "roleArn": "r", "definition": "x" * (1024 * 1024 + 1)}, "definition", 1048576),
    ("StopExecution", {"executionArn": ARN, "cause": "c" * 32769}, "cause", 32768),
    ("SendTaskFailure", {"taskToken": "t", "error": "e" * 257}, "error", 256),
])
def test_payloads_over_aws_limits_are_validation_errors(operation, params, member, limit):
    found = refusal(check("stepfunctions", operation, params))
    assert (found.status, found.code) == (400, "ValidationException")
    assert found.message == (f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
                             f"Member must have length less than or equal to {limit}")


def test_payloads_at_the_limit_pass():
    params = {"stateMachineArn": ARN, "name": "n", "input": "x" * 262144}
    assert check("stepfunctions", "StartExecution", params) == params


def test_every_violation_is_named_and_values_shown_only_when_short():
    found = refusal(check("stepfunctions", "GetExecutionHistory", {"executionArn": "", "maxResults": 5000}))
    assert found.message.startswith("2 validation errors detected: ")
    assert "Value '' at 'executionArn' failed to satisfy constraint: Member must have length greater than or equal to 1" in found.message
    assert "Value '5000' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000" in found.message


@pytest.mark.parametrize("name", ["a b", "a/b", "a:b", "tab\there", "x{y}", "star*", "q?", "semi;", "bell\x07", "nbsp\u00a0x"])
def test_step_functions_names_follow_aws_naming_rule(name):
    found = refusal(check("stepfunctions", "StartExecution", {"stateMachineArn": ARN, "name": name}))
    assert (found.code, found.message) == ("InvalidName", f"Invalid Name: '{name}'")


def test_a_name_over_80_characters_is_a_validation_error():
    assert refusal(check("stepfunctions", "StartExecution", {"stateMachineArn": ARN, "name": "x" * 81})).code == "ValidationException"


def test_an_unnamed_execution_gets_a_uuid():
    named = check("stepfunctions", "StartExecution", {"stateMachineArn": ARN, "input": "{}"})
    assert isinstance(named, dict) and str(uuid.UUID(named["name"])) == named["name"]
    assert check("stepfunctions", "StartExecution", {"stateMachineArn": ARN})["name"] != named["name"]


def test_an_sqs_message_over_1_mib_is_refused_counting_attributes():
    params = {"QueueUrl": "q", "MessageBody": "x" * (1024 * 1024 - 10),
              "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "0123456789"}}}
    found = refusal(check("sqs", "SendMessage", params))
    assert (found.status, found.code) == (400, "InvalidParameterValue")
    assert found.message == "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."
    assert check("sqs", "SendMessage", {"QueueUrl": "q", "MessageBody": "é" * (512 * 1024)}) is not None


def test_the_rules_apply_to_every_request_the_local_cloud_answers(cloud):
    """In process (a function's or the engine's clients) as over the endpoint: the adapter's
    design.aws_front_door seam runs them before moto does."""
    from botocore.exceptions import ClientError

    sfn, sqs = cloud.client("stepfunctions"), cloud.client("sqs")
    arn = cloud.state_machine_arn("register")
    cases = [
        (lambda: sfn.start_execution(stateMachineArn=arn, name="a b", input="{}"), "InvalidName"),
        (lambda: sfn.start_execution(stateMachineArn=arn, name="big", input='"' + "x" * 262144 + '"'), "ValidationException"),
        (lambda: sfn.create_state_machine(name="huge", roleArn="arn:aws:iam::123456789012:role/r",
                                          definition="{" + " " * (1024 * 1024) + "}"), "ValidationException"),
        (lambda: sqs.send_message(QueueUrl=sqs.list_queues()["QueueUrls"][0], MessageBody="x" * (1024 * 1024 + 1)),
         "InvalidParameterValue"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == code
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]] == []
