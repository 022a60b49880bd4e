"""Step Functions' Execution Status Change events: AWS publishes one to the default event bus for
every status change of a Standard execution (the local cloud does too), none for Express."""

from __future__ import annotations

import json
import time

import pytest

CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4, "battery_pct": 90}
DETAIL_KEYS = {"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "input", "inputDetails",
               "output", "outputDetails", "error", "cause", "redriveCount", "redriveDate", "redriveStatus",
               "redriveStatusReason"}


@pytest.fixture
def status_events(cloud):
    """An SQS queue behind a rule on the default bus for Step Functions' status events."""
    sqs, events = cloud.client("sqs"), cloud.client("events")
    url = sqs.create_queue(QueueName="status-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="status-events", EventPattern=json.dumps(
        {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"]}))
    events.put_targets(Rule="status-events", Targets=[{"Id": "queue", "Arn": arn}])

    def received() -> list[dict]:
        bodies = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in messages:
                bodies.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return bodies

    return received


def test_a_succeeded_execution_publishes_running_then_succeeded(fleet, status_events):
    result = fleet.run("register", CAR)
    assert result.status == "SUCCEEDED"
    described = fleet.sfn.describe_execution(executionArn=result.execution_arn)
    running, succeeded = status_events()
    for event in (running, succeeded):
        assert event["source"] == "aws.states" and event["detail-type"] == "Step Functions Execution Status Change"
        assert event["resources"] == [result.execution_arn] and event["account"] == "123456789012"
        assert event["region"] == "us-east-1" and event["version"] == "0"
        assert set(event["detail"]) == DETAIL_KEYS
        detail = event["detail"]
        assert detail["executionArn"] == result.execution_arn and detail["name"] == described["name"]
        assert detail["stateMachineArn"] == described["stateMachineArn"]
        assert detail["input"] == described["input"] and detail["inputDetails"] == {"included": True}
        assert detail["startDate"] == int(described["startDate"].timestamp() * 1000)
        assert detail["redriveCount"] == 0 and detail["redriveDate"] is None
    assert running["detail"]["status"] == "RUNNING" and running["detail"]["stopDate"] is None
    assert running["detail"]["output"] is None and running["detail"]["outputDetails"] is None
    assert running["detail"]["redriveStatus"] == "NOT_REDRIVABLE"
    assert running["detail"]["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven"
    assert succeeded["detail"]["status"] == "SUCCEEDED"
    assert succeeded["detail"]["stopDate"] == int(described["stopDate"].timestamp() * 1000)
    assert json.loads(succeeded["detail"]["output"]) == json.loads(described["output"])
    assert succeeded["detail"]["outputDetails"] == {"included": True}
    assert succeeded["detail"]["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"


def test_failed_and_stopped_executions_publish_their_end_as_redrivable(fleet, status_events):
    failed = fleet.run("register", {**CAR, "year": 1990})  # CarValidationError: the execution fails
    assert failed.status == "FAILED"
    arn = _waiting_execution(fleet.cloud)
    answer = fleet.sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")
    stopped = fleet.sfn.describe_execution(executionArn=arn)  # at once: a token wait ends with its execution
    assert stopped["status"] == "ABORTED" and answer["stopDate"] == stopped["stopDate"]
    aborted = fleet.sfn.get_execution_history(executionArn=arn)["events"][-1]
    assert aborted["executionAbortedEventDetails"] == {"error": "Operator", "cause": "stopped by hand"}
    by_execution: dict[str, list[dict]] = {}
    for event in status_events():
        by_execution.setdefault(event["detail"]["executionArn"], []).append(event["detail"])
    [started, ended] = by_execution[failed.execution_arn]
    assert (started["status"], ended["status"]) == ("RUNNING", "FAILED")
    assert ended["error"] == "CarValidationError" and ended["cause"] == failed.cause
    assert ended["output"] is None and ended["redriveStatus"] == "REDRIVABLE" and ended["redriveStatusReason"] is None
    assert [d["status"] for d in by_execution[arn]] == ["RUNNING", "ABORTED"]
    assert (by_execution[arn][1].get("error"), by_execution[arn][1].get("cause")) == (stopped.get("error"), stopped.get("cause"))


def _waiting_execution(cloud) -> str:
    """An execution waiting for a task token (RUNNING until stopped)."""
    sfn, sqs = cloud.client("stepfunctions"), cloud.client("sqs")
    url = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    definition = {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True,
        "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token"}}}}}
    machine = sfn.create_state_machine(name="waits-for-a-token", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    for _ in range(500):
        if sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages"):
            return arn  # the token is out: the task waits
        time.sleep(0.01)
    raise AssertionError("the execution never sent its task token")


def test_express_executions_publish_nothing(cloud, status_events):
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(name="express-quiet", type="EXPRESS", roleArn="arn:aws:iam::123456789012:role/r",
                                   definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    execution = sfn.start_execution(stateMachineArn=arn["stateMachineArn"], input="{}")["executionArn"]
    cloud.wait(execution)
    assert status_events() == []


def test_lambda_targets_get_the_event_in_awss_envelope():
    from workflows.local.adapter.design.eventbridge_lambda_targets import aws_envelope

    moto_event = {"version": "0", "id": "e1", "detail-type": "T", "source": "s", "account": "123456789012",
                  "time": 1700000000.25, "region": "us-east-1", "resources": [], "detail": {}, "ingestion-time": 1.0}
    delivered = aws_envelope(moto_event)
    assert delivered["time"] == "2023-11-14T22:13:20Z" and "ingestion-time" not in delivered
    assert {k: v for k, v in delivered.items() if k != "time"} == {k: v for k, v in moto_event.items()
                                                                   if k not in ("time", "ingestion-time")}


def test_what_the_fixes_correct_is_still_wrong_in_moto(cloud):
    """Each fix of this feature against moto as shipped: when an upgrade corrects one, this fails
    and the fix can go."""
    from moto.events.utils import EventTemplateParser
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from workflows.local.adapter.fixes import (
        eventbridge_event_delivered_whole,
        execution_name_generated,
        state_machine_type,
    )

    sfn = cloud.client("stepfunctions")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with state_machine_type.SEAM.removed():
        arn = sfn.create_state_machine(name="typed", type="EXPRESS", definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
    assert backend.describe_state_machine(arn).sm_type == "STANDARD"
    with execution_name_generated.SEAM.removed():
        standard = sfn.create_state_machine(name="unnamed", definition=definition,
                                            roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        assert sfn.start_execution(stateMachineArn=standard)["executionArn"].endswith(":None")
    with eventbridge_event_delivered_whole.SEAM.removed():
        event = {"version": "0", "id": "e", "detail-type": "T", "source": "s", "account": "123456789012", "time": 1.0,
                 "region": "us-east-1", "resources": [], "detail": {}, "ingestion-time": 1.0}
        assert "account" not in EventTemplateParser.parse(None, {}, event)
