"""AWS's 25,000-event limit on an execution's history: a machine that loops forever fails with
States.Runtime at event 25,000 (the failure is that event), and its Catch does not catch it."""

from __future__ import annotations

import json

from workflows.local.adapter.fixes.history_event_limit import CAUSE, MAX_HISTORY_EVENTS
from workflows.local.cloud import STATE_MACHINE_ROLE

LOOP = {"StartAt": "Spin", "States": {
    "Spin": {"Type": "Pass", "Result": {"spin": True}, "Next": "Loop"},
    "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": True, "Next": "Spin"}],
             "Default": "Done"},
    "Done": {"Type": "Succeed"}}}
# The same loop inside a Parallel whose Catch would take any error.
CAUGHT = {"StartAt": "Guard", "States": {
    "Guard": {"Type": "Parallel", "Branches": [LOOP], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
              "End": True},
    "Caught": {"Type": "Succeed"}}}


def _run(cloud, name: str, definition: dict) -> tuple[dict, list[dict]]:
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=STATE_MACHINE_ROLE)
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")["executionArn"]
    described = cloud.wait(arn, timeout_s=300)
    events = [e for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn) for e in page["events"]]
    return described, events


def test_an_endless_loop_fails_at_the_25000th_event(cloud):
    described, events = _run(cloud, "endless-loop", LOOP)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "States.Runtime", CAUSE)
    assert len(events) == MAX_HISTORY_EVENTS
    assert [e["id"] for e in events] == list(range(1, MAX_HISTORY_EVENTS + 1))
    last = events[-1]
    assert last["type"] == "ExecutionFailed" and last["previousEventId"] == MAX_HISTORY_EVENTS - 1
    assert last["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": CAUSE}
    assert events[-2]["type"] in ("PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited")


def test_the_limit_is_not_caught_by_the_machine(cloud):
    described, events = _run(cloud, "caught-loop", CAUGHT)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "States.Runtime", CAUSE)
    assert len(events) == MAX_HISTORY_EVENTS
    assert not any(e["type"] == "SucceedStateEntered" for e in events)
