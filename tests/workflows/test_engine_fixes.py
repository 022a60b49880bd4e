"""The engine's fixes where moto answers differently from AWS (workflows/local/adapter/fixes): each
answer as AWS gives it, and each pinned: with the seam removed, moto's own answer is still the
divergent one (when an upgrade fixes it upstream, the pin fails and the seam can go)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from workflows.local.adapter.fixes import execution_output_json_text, integration_result_metadata, redrive_execution
from workflows.local.cloud import STATE_MACHINE_ROLE, LocalCloud


def run(cloud: LocalCloud, definition: dict[str, Any], payload: Any = None, machine_type: str = "STANDARD") -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(name=f"fix-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=STATE_MACHINE_ROLE, type=machine_type)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload or {}))["executionArn"]
    return cloud.wait(execution)


def test_a_string_output_is_json_text(cloud):
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": "all \"done\"", "End": True}}}
    assert json.loads(run(cloud, definition)["output"]) == 'all "done"'
    # (redrive_execution wraps DescribeExecution after it: out first)
    with redrive_execution.SEAM.removed(), execution_output_json_text.SEAM.removed():
        assert run(cloud, definition)["output"] == 'all "done"'  # moto: the string itself, not JSON


def sqs_send(queue_url: str) -> dict[str, Any]:
    return {"StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "ResultPath": "$.sent", "End": True,
        "Parameters": {"QueueUrl": queue_url, "MessageBody": "hello"}}}}


def test_an_integration_result_carries_the_http_response_it_came_from(cloud):
    url = cloud.client("sqs").create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sent = json.loads(run(cloud, sqs_send(url))["output"])["sent"]
    body = json.dumps({k: v for k, v in sent.items() if not k.startswith("Sdk")}, separators=(",", ":"))
    meta = sent["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    assert meta["HttpHeaders"]["Content-Length"] == str(len(body))
    assert meta["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
    assert meta["AllHttpHeaders"] == {k: [v] for k, v in meta["HttpHeaders"].items()}
    assert sent["SdkResponseMetadata"]["RequestId"] == meta["HttpHeaders"]["x-amzn-RequestId"]
    uuid.UUID(sent["SdkResponseMetadata"]["RequestId"])
    with integration_result_metadata.SEAM.removed():
        plain = json.loads(run(cloud, sqs_send(url))["output"])["sent"]
    assert "SdkHttpMetadata" not in plain and "SdkResponseMetadata" not in plain


def sync_client(cloud: LocalCloud) -> Any:
    from botocore.config import Config

    # The `sync-` host prefix AWS's SDKs put on StartSyncExecution is no host on a local endpoint.
    return cloud._session.client("stepfunctions", config=Config(retries={"max_attempts": 0}, inject_host_prefix=False))


def test_an_express_machine_runs_synchronously_and_answers_its_result(cloud):
    sfn = cloud.client("stepfunctions")
    definition = {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Double"}],
                  "Default": "Refuse"},
        "Double": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True},
        "Refuse": {"Type": "Fail", "Error": "NotPositive", "Cause": "n must be positive"}}}
    arn = sfn.create_state_machine(name=f"express-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=STATE_MACHINE_ROLE, type="EXPRESS")["stateMachineArn"]
    ok = sync_client(cloud).start_sync_execution(stateMachineArn=arn, input=json.dumps({"n": 21}), name="double-21")
    assert ok["status"] == "SUCCEEDED"
    assert json.loads(ok["output"]) == {"twice": 42}
    assert ok["executionArn"].startswith(arn.replace(":stateMachine:", ":express:") + ":double-21:")
    assert ok["billingDetails"]["billedDurationInMilliseconds"] >= 100
    failed = sync_client(cloud).start_sync_execution(stateMachineArn=arn, input=json.dumps({"n": -1}))
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "NotPositive", "n must be positive")
    # Express semantics: nothing is kept to describe afterwards.
    try:
        sfn.describe_execution(executionArn=ok["executionArn"])
        raise AssertionError("an express execution run synchronously was kept")
    except sfn.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn")


def test_a_standard_machine_is_not_run_synchronously(cloud):
    sfn = cloud.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = sfn.create_state_machine(name=f"standard-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=STATE_MACHINE_ROLE)["stateMachineArn"]
    try:
        sync_client(cloud).start_sync_execution(stateMachineArn=arn, input="{}")
        raise AssertionError("a STANDARD machine ran synchronously")
    except sfn.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_an_operation_the_adapter_adds_fails_loudly_once_moto_has_its_own():
    from workflows.local.adapter.seam import Seam, SeamMoved

    class Upgraded:
        def start_sync_execution(self) -> None: ...

    seam = Seam("workflows.local.adapter.fixes.example_added_operation", "example", corrects="example")
    from workflows.local.adapter.seam import SEAMS

    SEAMS.remove(seam)
    seam.add(Upgraded, "start_sync_execution", lambda self: None)
    try:
        seam.install()
        raise AssertionError("an added operation replaced moto's own without a word")
    except SeamMoved as exc:
        assert "moto now has its own" in str(exc)


def parallel_with_failing_branch(catch: bool) -> dict[str, Any]:
    branch = {"StartAt": "Broken", "States": {"Broken": {"Type": "Pass", "InputPath": "$.missing", "End": True}}}
    parallel: dict[str, Any] = {"Type": "Parallel", "Branches": [branch], "End": True}
    if catch:
        parallel["Catch"] = [{"ErrorEquals": ["States.Runtime"], "ResultPath": "$.caught", "Next": "Handled"}]
    states: dict[str, Any] = {"Fanout": parallel}
    if catch:
        states["Handled"] = {"Type": "Pass", "End": True}
    return {"StartAt": "Fanout", "States": states}


def test_a_states_error_leaving_a_parallel_branch_is_caught_by_its_name(cloud):
    caught = run(cloud, parallel_with_failing_branch(catch=True), {"a": 1})
    assert caught["status"] == "SUCCEEDED"
    assert json.loads(caught["output"])["caught"]["Error"] == "States.Runtime"
    uncaught = run(cloud, parallel_with_failing_branch(catch=False), {"a": 1})
    assert uncaught["error"] == "States.Runtime"
    # The branch's cause, decorated once with the state it happened in.
    assert uncaught["cause"].startswith("An error occurred while executing the state 'Broken'")
    assert uncaught["cause"].count("An error occurred") == 1
    from workflows.local.adapter.fixes import states_errors_cross_map_and_parallel as fix

    with fix.SEAM.removed():
        moto = run(cloud, parallel_with_failing_branch(catch=True), {"a": 1})
    assert moto["status"] == "FAILED" and "Custom Error Names MUST NOT begin with the prefix 'States.'" in moto["cause"]


def machine_reading_a_table(table: str) -> dict[str, Any]:
    """Counts, then reads an item of a table: the read fails while the table does not exist."""
    return {"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"runs.$": "$$.Execution.RedriveCount", "car.$": "$.car"},
                  "Next": "Read"},
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "ResultSelector": {"found.$": "$.Item.id.S"},
                 "ResultPath": "$.item", "Parameters": {"TableName": table, "Key": {"id": {"S": "switch"}}}, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True, "Parameters": {
            "runs.$": "$.runs", "car.$": "$.car", "found.$": "$.item.found", "redrives.$": "$$.Execution.RedriveCount"}}}}


def test_redrive_resumes_a_failed_execution_from_the_state_that_failed(cloud):
    ddb, sfn = cloud.client("dynamodb"), cloud.client("stepfunctions")
    table = f"later-{uuid.uuid4().hex[:8]}"
    arn = sfn.create_state_machine(name=f"redrive-{uuid.uuid4().hex[:8]}", roleArn=STATE_MACHINE_ROLE,
                                   definition=json.dumps(machine_reading_a_table(table)))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"car": "1HG"}))["executionArn"]
    failed = cloud.wait(execution)
    assert (failed["status"], failed["error"], failed["redriveCount"]) == ("FAILED", "DynamoDB.ResourceNotFoundException", 0)
    before = sfn.get_execution_history(executionArn=execution)["events"]

    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=table, Item={"id": {"S": "switch"}})
    assert "redriveDate" in sfn.redrive_execution(executionArn=execution)
    done = cloud.wait(execution)
    assert done["status"] == "SUCCEEDED", done
    # Resumed at the task that failed, with what it was given: Count ran once, on the first run.
    assert json.loads(done["output"]) == {"runs": 0, "car": "1HG", "found": "switch", "redrives": 1}
    assert done["redriveCount"] == 1
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert events[:len(before)] == before
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    redriven = events[len(before)]
    assert redriven["type"] == "ExecutionRedriven"
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e] == [
        "Count", "Read", "Read", "Done"]


def test_only_an_execution_that_failed_timed_out_or_was_aborted_is_redriven(cloud):
    sfn = cloud.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    arn = sfn.create_state_machine(name=f"ok-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=STATE_MACHINE_ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert cloud.wait(execution)["status"] == "SUCCEEDED"
    try:
        sfn.redrive_execution(executionArn=execution)
        raise AssertionError("a SUCCEEDED execution was redriven")
    except sfn.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "ExecutionNotRedrivable"
        assert "SUCCEEDED" in exc.response["Error"]["Message"]


def test_an_aws_sdk_error_is_named_after_the_service_as_aws_names_it(cloud):
    definition = {"StartAt": "List", "States": {
        "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listObjects", "End": True,
                 "Parameters": {"Bucket": f"no-such-bucket-{uuid.uuid4().hex[:8]}"},
                 "Catch": [{"ErrorEquals": ["S3.NoSuchBucketException"], "ResultPath": "$.error", "Next": "Missing"}]},
        "Missing": {"Type": "Pass", "End": True}}}
    caught = json.loads(run(cloud, definition)["output"])["error"]
    assert caught["Error"] == "S3.NoSuchBucketException"
    assert "(Service: S3, Status Code: 404, Request ID: " in caught["Cause"] and "Extended Request ID: " in caught["Cause"]
    from workflows.local.adapter.fixes import aws_sdk_error_names

    assert [aws_sdk_error_names.sdk_service_name(s) for s in ("secretsmanager", "dynamodb", "sfn", "sqs", "ec2")] == [
        "SecretsManager", "DynamoDb", "Sfn", "Sqs", "Ec2"]
    with aws_sdk_error_names.SEAM.removed():
        moto = run(cloud, definition)
    assert moto["status"] == "FAILED" and moto["error"] == "s3.NoSuchBucketException"


def test_jsonata_map_input_and_wait_timestamp_failures_are_awss(cloud):
    from workflows.local.adapter.fixes import jsonata_failure_causes

    mapping = {"QueryLanguage": "JSONata", "StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
    failed = run(cloud, mapping, {"foo": "bar"})
    assert failed["error"] == "States.QueryEvaluationError"
    assert failed["cause"].endswith('Map state input must be an array but was: {"foo":"bar"}')
    waiting = {"QueryLanguage": "JSONata", "StartAt": "Until", "States": {"Until": {
        "Type": "Wait", "Timestamp": "{% $states.input.at %}", "End": True}}}
    failed = run(cloud, waiting, {"at": "2016-12-05 21:29:29Z"})
    assert failed["error"] == "States.QueryEvaluationError"
    assert failed["cause"].endswith("cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05 21:29:29Z")
    with jsonata_failure_causes.SEAM.removed():
        assert run(cloud, mapping, {"foo": "bar"})["cause"].endswith("but was: <class 'dict'>")
        assert run(cloud, waiting, {"at": "2016-12-05 21:29:29Z"})["error"] == "States.Runtime"


def test_a_string_assigned_in_assign_means_what_its_json_says(cloud):
    from workflows.local.adapter.fixes import assign_string_escapes

    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"json": "{\"key\":\"value\"}", "quote": "say \"hi\""}, "Next": "Read"},
        "Read": {"Type": "Pass", "End": True,
                 "Parameters": {"parsed.$": "States.StringToJson($json)", "quote.$": "$quote"}}}}
    assert json.loads(run(cloud, definition)["output"]) == {"parsed": {"key": "value"}, "quote": 'say "hi"'}
    with assign_string_escapes.SEAM.removed():
        from workflows.local.adapter.speedups import parsed_program_cache

        with parsed_program_cache.SEAM.removed():
            assert run(cloud, definition)["status"] == "FAILED"  # moto: the backslashes stay, StringToJson fails
