"""workflows/definitions/permissions.py: the static analysis the state machine roles are built from."""

from __future__ import annotations

import pytest

from workflows.definitions import catalog, permissions
from workflows.definitions.permissions import Permission, Target

# Every shape the catalog's workflows use or will use: nested Parallel and Map (both the
# ItemProcessor and the legacy Iterator), .sync / .sync:2 / .waitForTaskToken, the aws-sdk
# integration, the legacy Lambda ARN resource, a function alias, and data that looks like a resource.
KITCHEN_SINK = {
    "StartAt": "Find",
    "States": {
        "Find": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:query",
            "Parameters": {"TableName": "${CarsTableName}", "IndexName": "status-index",
                           "KeyConditionExpression": "#s = :s", "ExpressionAttributeValues": {":s": {"S": "AVAILABLE"}}},
            "Next": "Prepare",
        },
        "Prepare": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Order", "States": {"Order": {
                    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "${InspectCarFunctionArn}",
                                   "Payload": {"TableName": "${RidesTableName}", "x.$": "$"}},
                    "End": True}}},
                {"StartAt": "Nested", "States": {"Nested": {
                    "Type": "Map", "ItemsPath": "$.checks",
                    "ItemProcessor": {"StartAt": "Check", "States": {"Check": {
                        "Type": "Task", "Resource": "${ValidateCarFunctionArn}", "End": True}}},
                    "End": True}}},
            ],
            "Next": "Checks",
        },
        "Checks": {
            "Type": "Map",
            "Iterator": {"StartAt": "Sign", "States": {"Sign": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "${FleetApiFunctionArn}:live",
                               "Payload": {"token.$": "$$.Task.Token"}},
                "End": True}}},
            "Next": "Child",
        },
        "Child": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": "${RegisterCarStateMachineArn}", "Input": {"StateMachineArn": "nope"}},
            "Next": "Later",
        },
        "Later": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
            "Parameters": {"StateMachineArn": "${RegisterCarStateMachineArn}", "Name.$": "$.name"},
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "${DlqUrl}", "MessageBody": {"QueueUrl": "not a resource", "t.$": "$$.Task.Token"}},
            "Next": "Publish",
        },
        "Publish": {
            "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{"EventBusName": "${FleetBusName}", "Source": "s", "DetailType": "d",
                                        "Detail": {"EventBusName": "not a resource"}}]},
            "End": True,
        },
    },
}


def test_walks_parallel_branches_and_map_processors():
    paths = [use.where for use in permissions.analyze(KITCHEN_SINK)]
    assert paths == ["Find", "Prepare/Branches[0]/Order", "Prepare/Branches[1]/Nested/ItemProcessor/Check",
                     "Checks/Iterator/Sign", "Child", "Later", "Notify", "Publish"]


def test_reads_integrations_patterns_and_resources():
    uses = {use.state: use for use in permissions.analyze(KITCHEN_SINK)}
    assert (uses["Find"].integration, uses["Find"].service, uses["Find"].action) == ("aws-sdk:dynamodb:query", "dynamodb", "query")
    assert uses["Find"].table_names == ("${CarsTableName}",) and uses["Find"].index_names == ("status-index",)
    assert uses["Order"].function_names == ("${InspectCarFunctionArn}",)
    assert uses["Order"].table_names == (), "a Lambda payload is data, not a resource of the state machine"
    assert (uses["Check"].integration, uses["Check"].function_names) == ("lambda:invoke", ("${ValidateCarFunctionArn}",))
    assert (uses["Sign"].pattern, uses["Sign"].function_names) == ("wait_for_task_token", ("${FleetApiFunctionArn}:live",))
    assert (uses["Child"].pattern, uses["Child"].sync_version) == ("sync", "2")
    assert uses["Child"].state_machine_arns == ("${RegisterCarStateMachineArn}",)
    assert (uses["Later"].pattern, uses["Later"].dynamic) == ("request_response", ())
    assert (uses["Notify"].pattern, uses["Notify"].queue_urls) == ("wait_for_task_token", ("${DlqUrl}",))
    assert uses["Publish"].event_bus_names == ("${FleetBusName}",)


def test_permissions_are_exactly_what_the_tasks_use():
    rsm = "${RegisterCarStateMachineArn}"
    assert permissions.permissions(permissions.analyze(KITCHEN_SINK)) == sorted({
        Permission("dynamodb:Query", Target("table", "${CarsTableName}")),
        Permission("dynamodb:Query", Target("table_index", "${CarsTableName}", "status-index")),
        Permission("lambda:InvokeFunction", Target("function", "${InspectCarFunctionArn}")),
        Permission("lambda:InvokeFunction", Target("function", "${ValidateCarFunctionArn}")),
        Permission("lambda:InvokeFunction", Target("function", "${FleetApiFunctionArn}", "live")),
        Permission("states:StartExecution", Target("state_machine", rsm)),
        Permission("states:DescribeExecution", Target("executions", rsm)),
        Permission("states:StopExecution", Target("executions", rsm)),
        Permission("events:DescribeRule", Target("events_rule", permissions.SYNC_EVENTS_RULE)),
        Permission("events:PutRule", Target("events_rule", permissions.SYNC_EVENTS_RULE)),
        Permission("events:PutTargets", Target("events_rule", permissions.SYNC_EVENTS_RULE)),
        Permission("sqs:SendMessage", Target("queue", "${DlqUrl}")),
        Permission("events:PutEvents", Target("bus", "${FleetBusName}")),
    })


def test_fire_and_forget_start_needs_no_sync_permissions():
    definition = {"StartAt": "S", "States": {"S": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": "${RegisterCarStateMachineArn}"}, "End": True}}}
    assert permissions.permissions(permissions.analyze(definition)) == [
        Permission("states:StartExecution", Target("state_machine", "${RegisterCarStateMachineArn}"))]


def test_dynamodb_optimized_integrations_and_transactions():
    def perms(resource, parameters):
        return permissions.permissions(permissions.analyze({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}}}))

    table = Target("table", "${CarsTableName}")
    assert perms("arn:aws:states:::dynamodb:getItem", {"TableName": "${CarsTableName}", "Key": {}}) == [
        Permission("dynamodb:GetItem", table)]
    assert perms("arn:aws:states:::dynamodb:deleteItem", {"TableName": "${CarsTableName}", "Key": {}}) == [
        Permission("dynamodb:DeleteItem", table)]
    transaction = {"TransactItems": [{"Put": {"TableName": "${CarsTableName}", "Item": {}}},
                                     {"Update": {"TableName": "${RidesTableName}", "Key": {}}}]}
    assert {p.target.expression for p in perms("arn:aws:states:::aws-sdk:dynamodb:transactWriteItems", transaction)} == {
        "${CarsTableName}", "${RidesTableName}"}
    assert {p.action for p in perms("arn:aws:states:::aws-sdk:dynamodb:transactWriteItems", transaction)} == {
        "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}


def test_jsonata_arguments_are_read_too():
    definition = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "${ValidateCarFunctionArn}", "Payload": "{% $states.input %}"}, "End": True}}}
    assert permissions.functions_named(definition) == {"${ValidateCarFunctionArn}"}


@pytest.mark.parametrize("state, message", [
    ({"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName.$": "$.fn"}}, "run time"),
    ({"Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {"FunctionName": "{% $states.input.fn %}"}}, "run time"),
    ({"Resource": "arn:aws:states:::events:putEvents",
      "Parameters": {"Entries": [{"Source": "s", "DetailType": "d", "Detail": {}}]}}, "default bus"),
    ({"Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"MessageBody": "x"}}, "without a static"),
    ({"Resource": "arn:aws:states:::batch:submitJob.sync", "Parameters": {}}, "no IAM mapping"),
    ({"Resource": "arn:aws:states:us-east-1:123456789012:activity:sign-off"}, "no IAM mapping"),
    ({"Resource": "arn:aws:states:::lambda:invoke", "Credentials": {"RoleArn": "arn:aws:iam::1:role/x"},
      "Parameters": {"FunctionName": "${ValidateCarFunctionArn}"}}, "Credentials"),
])
def test_refuses_what_cannot_be_scoped_statically(state, message):
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, **state}}}
    with pytest.raises(permissions.UnsupportedTask, match=message):
        permissions.permissions(permissions.analyze(definition))


def test_map_item_reader_is_a_resource_too():
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b"}},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}
    (use,) = permissions.analyze(definition)
    assert (use.kind, use.where, use.integration) == ("ItemReader", "M/ItemReader", "s3:getObject")
    with pytest.raises(permissions.UnsupportedTask):
        permissions.permissions([use])


def test_split_placeholder():
    assert permissions.split_placeholder("${A}") == ("A", "")
    assert permissions.split_placeholder("${A}:live") == ("A", ":live")
    assert permissions.split_placeholder("arn:aws:lambda:x") == (None, "arn:aws:lambda:x")


@pytest.mark.parametrize("sm", catalog.STATE_MACHINES, ids=lambda sm: sm.logical_id)
def test_every_catalog_workflow_is_analyzable(sm):
    uses = permissions.analyze(sm.definition())
    assert uses, f"{sm.asl_file} has no Task state"
    assert permissions.permissions(uses)  # raises if any Task cannot be scoped
