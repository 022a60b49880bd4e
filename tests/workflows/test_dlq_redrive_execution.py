"""`fleet dlq redrive` resumes an execution in place (RedriveExecution) when its failure ended it
uncaught, and restarts from the original input otherwise. The failure here reaches the queue
without its row (a definition without RecordFailure): the sweep records it first."""

from __future__ import annotations

import json
import uuid

from fleet_domain.control.dlq import DeadLetterQueue
from fleet_domain.data.failures import FailureRepository, failure_id
from tests.workflows.test_engine_fixes import machine_reading_a_table
from workflows.definitions import catalog
from workflows.local.cloud import STATE_MACHINE_ROLE


def test_an_uncaught_failure_is_resumed_in_place(cloud):
    sfn, sqs, ddb = cloud.client("stepfunctions"), cloud.client("sqs"), cloud.client("dynamodb")
    table = f"later-{uuid.uuid4().hex[:8]}"
    machine = sfn.create_state_machine(name=f"dlq-{uuid.uuid4().hex[:8]}", roleArn=STATE_MACHINE_ROLE,
                                       definition=json.dumps(machine_reading_a_table(table)))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"car": "1HG"}))["executionArn"]
    failed = cloud.wait(execution)
    url = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({
        "execution_arn": execution, "workflow": "reader", "state_machine_arn": machine, "failed_state": "Read",
        "error": failed["error"], "cause": failed["cause"], "input": {"car": "1HG"}}))
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=table, Item={"id": {"S": "switch"}})

    dlq = DeadLetterQueue(sqs, url, FailureRepository(ddb, catalog.table("Failures").table_name))
    assert dlq.list() == [] and dlq.sweep().recorded == 1
    [recorded] = dlq.list()
    assert (recorded.failure_id, recorded.failed_state, recorded.original_input()) == (
        failure_id(execution), "Read", {"car": "1HG"})
    [result] = dlq.redrive(sfn).results
    assert (result.execution_arn, result.redriven, result.deleted) == (execution, True, True)
    done = cloud.wait(execution)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 1
    assert json.loads(done["output"])["found"] == "switch"
    assert dlq.list() == [] and sqs.receive_message(QueueUrl=url).get("Messages", []) == []
