"""workflows/definitions/asl.py: the typed ASL model every reader of a state machine shares."""

from __future__ import annotations

import pytest

from workflows.definitions import asl, catalog

DEFINITION = {
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Fan"}],
                  "Default": "Stop"},
        "Fan": {"Type": "Parallel", "Next": "Each", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Stop"}],
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                      "Parameters": {"FunctionName": "${AFunctionArn}"}, "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": True,
                 "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 2}],
                 "Iterator": {"StartAt": "Wait", "States": {
                     "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                              "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                              "HeartbeatSeconds": 60, "End": True}}}},
        "Stop": {"Type": "Fail", "Error": "Stopped"},
    },
}


def test_walk_visits_every_state_depth_first_with_its_path():
    paths = [s.id for s in asl.parse(DEFINITION).walk()]
    assert paths == ["Check", "Fan", "Fan/Branches[0]/A", "Fan/Branches[1]/B", "Each", "Each/Iterator/Wait", "Stop"]


def test_states_are_typed_with_their_transitions():
    states = asl.parse(DEFINITION).by_path()
    check, fan, each, stop = (states[(n,)] for n in ("Check", "Fan", "Each", "Stop"))
    assert isinstance(check, asl.Choice) and [(t.target, t.kind) for t in check.transitions()] == [
        ("Fan", "choice"), ("Stop", "default")]
    assert isinstance(fan, asl.Parallel) and [(t.target, t.kind) for t in fan.transitions()] == [
        ("Each", "next"), ("Stop", "catch")]
    assert isinstance(each, asl.Map) and each.processor_key == "Iterator" and each.max_concurrency == 2
    assert each.retry == (asl.Retrier(("X",), max_attempts=2),) and each.terminal
    assert stop.terminal and stop.transitions() == []


def test_a_task_knows_its_integration_and_pattern():
    wait = asl.parse(DEFINITION).by_path()[("Each", "Iterator", "Wait")]
    assert isinstance(wait, asl.Task) and wait.heartbeat_seconds == 60
    assert wait.integration == asl.Integration("lambda:invoke", "wait_for_task_token")
    assert asl.Integration.of("arn:aws:states:::states:startExecution.sync:2") == asl.Integration(
        "states:startExecution", "sync", "2")
    assert asl.Integration.of("arn:aws:lambda:us-east-1:1:function:f").name is None


def test_query_language_is_inherited_by_nested_blocks():
    spec = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": True, "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Pass", "End": True}}}]}}}
    parallel = asl.parse(spec).states["P"]
    assert isinstance(parallel, asl.Parallel) and parallel.branches[0].query_language == "JSONata"


@pytest.mark.parametrize("text, message", [("{", "not JSON"), ("[]", "needs a States object"), ('{"StartAt": "A"}', "States")])
def test_what_is_not_a_definition_is_refused_in_one_line(text, message):
    with pytest.raises(asl.AslError, match=message):
        asl.parse(text)


@pytest.mark.parametrize("sm", catalog.STATE_MACHINES, ids=lambda sm: sm.workflow)
def test_every_fleet_definition_parses_and_every_transition_names_a_sibling(sm):
    definition = asl.parse(sm.definition())
    blocks: list[asl.Block] = [definition]
    for state in definition.walk():
        if isinstance(state, asl.Parallel):
            blocks += state.branches
        elif isinstance(state, asl.Map) and state.processor is not None:
            blocks.append(state.processor)
    for block in blocks:
        assert block.start_at in block.states
        for state in block.states.values():
            assert all(t.target in block.states for t in state.transitions()), state.id
