"""The stack is generic over the catalog: add state machines that use every shape the lifecycle
workflows will (nested .sync and fire-and-forget starts of a sibling and of themselves, callbacks
with .waitForTaskToken, Parallel, Map, the aws-sdk integration, a function alias), synthesize a
production stage, and the roles are still exact and the template free of cycles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.helpers import canonical, dependency_cycles, role_grants
from tests.infra.test_consistency import OBSERVABILITY_ACTIONS, expected_grants
from workflows.definitions import catalog, permissions
from workflows.definitions.catalog import Ref

ORCHESTRATOR = {
    "StartAt": "RegisterAndWait",
    "States": {
        "RegisterAndWait": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": "${RegisterCarStateMachineArn}", "Input.$": "$"},
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "AwaitSignOff", "States": {"AwaitSignOff": {
                    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "${FleetApiFunctionArn}:live",
                                   "Payload": {"token.$": "$$.Task.Token"}},
                    "TimeoutSeconds": 3600, "HeartbeatSeconds": 600, "End": True}}},
                {"StartAt": "FindAvailable", "States": {"FindAvailable": {
                    "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
                    "Parameters": {"TableName": "${CarsTableName}", "IndexName": "status-index",
                                   "KeyConditionExpression": "#s = :s",
                                   "ExpressionAttributeNames": {"#s": "status"},
                                   "ExpressionAttributeValues": {":s": {"S": "AVAILABLE"}}},
                    "End": True}}},
            ],
            "Next": "EachCar",
        },
        "EachCar": {
            "Type": "Map", "ItemsPath": "$.cars", "MaxConcurrency": 2,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Validate", "States": {
                "Validate": {"Type": "Task", "Resource": "${ValidateCarFunctionArn}", "End": True}}},
            "Next": "Helper",
        },
        "Helper": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
            "Parameters": {"StateMachineArn": "${HelperStateMachineArn}", "Input": {}}, "Next": "Again",
        },
        "Again": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
            "Parameters": {"StateMachineArn": "${OrchestratorStateMachineArn}", "Input": {}}, "End": True,
        },
    },
}
HELPER = {
    "StartAt": "Back",
    "States": {"Back": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
        "Parameters": {"StateMachineArn": "${OrchestratorStateMachineArn}",
                       "Input": {"token.$": "$$.Task.Token"}}, "End": True}},
}


@pytest.fixture(scope="module")
def extended(synth, synthesizer, tmp_path_factory):
    """A production stage of a catalog with two more state machines (synth first: the session's
    main synthesis must not see them)."""
    folder = tmp_path_factory.mktemp("asl")
    extra = []
    for logical_id, definition in (("Orchestrator", ORCHESTRATOR), ("Helper", HELPER)):
        path = folder / f"{logical_id}.asl.json"
        path.write_text(json.dumps(definition, indent=2))
        extra.append(catalog.StateMachine(logical_id, workflow=logical_id.lower(), asl_file=str(path),
                                          description=f"test: {logical_id}"))
    substitutions = {**catalog.SUBSTITUTIONS,
                     **{f"{s.logical_id}StateMachineArn": Ref("state_machine", s.logical_id, "arn") for s in extra}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(catalog, "STATE_MACHINES", catalog.STATE_MACHINES + tuple(extra))
        mp.setattr(catalog, "SUBSTITUTIONS", substitutions)
        yield synthesizer({"stage": "prod", "stack_name": "FleetProd"})


def test_no_circular_dependency_when_workflows_start_each_other_and_themselves(extended):
    assert dependency_cycles(extended.template) == []


@pytest.mark.parametrize("logical_id", ["Orchestrator", "Helper"])
def test_roles_are_exact_for_every_integration_shape(extended, logical_id):
    sm = catalog.state_machine(logical_id)
    role = extended.logical_id(extended.stack.state_machines.roles[logical_id])
    assert role_grants(extended, role) == expected_grants(extended, sm)


def test_nested_workflow_permissions(extended):
    resources = extended.stack.resources
    grants = role_grants(extended, extended.logical_id(extended.stack.state_machines.roles["Orchestrator"]))

    def arn(token: Any) -> str:
        return canonical(extended.resolve(token))

    register = arn(resources.state_machine_arn("RegisterCar"))
    executions = arn(resources.executions_arn("RegisterCar"))
    rule = arn(resources.target_arn(permissions.Target("events_rule", permissions.SYNC_EVENTS_RULE)))
    table = arn(resources.tables["Cars"].table_arn)
    assert {("states:StartExecution", register), ("states:DescribeExecution", executions),
            ("states:StopExecution", executions), ("events:PutRule", rule), ("events:PutTargets", rule),
            ("events:DescribeRule", rule)} <= grants
    assert ("states:StartExecution", arn(resources.state_machine_arn("Orchestrator"))) in grants
    assert ("states:StartExecution", arn(resources.state_machine_arn("Helper"))) in grants
    assert ("dynamodb:Query", table) in grants
    assert ("dynamodb:Query", arn(f"{resources.tables['Cars'].table_arn}/index/status-index")) in grants
    assert ("lambda:InvokeFunction", arn(f"{resources.functions['FleetApi'].function_arn}:live")) in grants
    assert ("lambda:InvokeFunction", arn(resources.functions["ValidateCar"].function_arn)) in grants
    # The callback pattern needs no permission on the caller's side: whoever resumes holds it.
    assert not any(a.startswith("states:SendTask") for a, _ in grants)
    assert {a for a, r in grants if r == '"*"'} == OBSERVABILITY_ACTIONS


def test_the_state_machine_arns_are_built_from_names_not_references(extended):
    machines = extended.of_type("AWS::StepFunctions::StateMachine")
    names = {m["Properties"]["StateMachineName"] for m in machines.values()}
    assert {"FleetProd-Orchestrator", "FleetProd-Helper", "FleetProd-RegisterCar"} <= names
    for machine in machines.values():
        for value in machine["Properties"].get("DefinitionSubstitutions", {}).values():
            assert not any(lid in json.dumps(value) for lid in machines), "a state machine ARN by reference"


def test_production_keeps_data_and_logs(extended):
    for table in extended.of_type("AWS::DynamoDB::Table").values():
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for group in extended.of_type("AWS::Logs::LogGroup").values():
        assert group["DeletionPolicy"] == "Retain"
        assert group["Properties"]["RetentionInDays"] == 90
    for queue in extended.of_type("AWS::SQS::Queue").values():
        assert queue["DeletionPolicy"] == "Retain"


def test_dev_leaves_nothing_behind(synth):
    for table in synth.of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"].get("DeletionProtectionEnabled") in (None, False)
    for group in synth.of_type("AWS::Logs::LogGroup").values():
        assert group["DeletionPolicy"] == "Delete"
        assert group["Properties"]["RetentionInDays"] == 14
