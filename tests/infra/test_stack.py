"""The synthesized stack has the resources and properties issue 5 asks for, for every catalog entry."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from infra.components.api import API_FUNCTION, LIVE_ALIAS
from infra.components.observability import DURATION_ALARM_FRACTION
from workflows.definitions import catalog, naming
from workflows.definitions.catalog import Ref

FUNCTIONS = pytest.mark.parametrize("f", catalog.FUNCTIONS, ids=lambda f: f.logical_id)
STATE_MACHINES = pytest.mark.parametrize("sm", catalog.STATE_MACHINES, ids=lambda sm: sm.logical_id)


@pytest.fixture(scope="module")
def template(synth) -> Template:
    return Template.from_json(synth.template)


def ref_id(synth, construct) -> dict:
    return {"Ref": synth.logical_id(construct)}


def arn_of(synth, construct) -> dict:
    return {"Fn::GetAtt": [synth.logical_id(construct), "Arn"]}


# --- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("t", catalog.TABLES, ids=lambda t: t.logical_id)
def test_tables(synth, t):
    table = synth.resources[synth.logical_id(synth.stack.resources.tables[t.logical_id])]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    keys = [{"AttributeName": t.partition_key, "KeyType": "HASH"}]
    keys += [{"AttributeName": t.sort_key, "KeyType": "RANGE"}] if t.sort_key else []
    assert props["KeySchema"] == keys
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}[t.partition_key] == t.key_type(t.partition_key)
    indexes = {ix["IndexName"]: ix for ix in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {ix.name for ix in t.indexes}
    for ix in t.indexes:
        assert indexes[ix.name]["KeySchema"][0] == {"AttributeName": ix.partition_key, "KeyType": "HASH"}
        assert indexes[ix.name]["Projection"] == {"ProjectionType": "ALL"}
    if t.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": t.ttl_attribute, "Enabled": True}


# --- messaging -------------------------------------------------------------------------------


@pytest.mark.parametrize("q", catalog.QUEUES, ids=lambda q: q.logical_id)
def test_queues_are_encrypted_tls_only_and_keep_messages(synth, template, q):
    queue = synth.stack.resources.queues[q.logical_id]
    props = synth.resources[synth.logical_id(queue)]["Properties"]
    assert props["SqsManagedSseEnabled"] is True
    assert props["MessageRetentionPeriod"] == q.retention_days * 86400
    policies = [p for p in synth.of_type("AWS::SQS::QueuePolicy").values()
                if ref_id(synth, queue) in p["Properties"]["Queues"]]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)


def test_dlq_is_14_days_and_alarms_on_one_message(synth, template):
    dlq = synth.stack.resources.queues["Dlq"]
    assert synth.resources[synth.logical_id(dlq)]["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Namespace": "AWS/SQS",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [synth.logical_id(dlq), "QueueName"]}}],
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 1,
        "Period": 60,
    })


@pytest.mark.parametrize("bus", catalog.BUSES, ids=lambda b: b.logical_id)
def test_bus_rules_deliver_to_consumers_asynchronously_with_retries_and_a_failure_queue(synth, template, bus):
    r = synth.stack.resources
    failures = arn_of(synth, r.queues[bus.on_failure_queue])
    for consumer in bus.consumers:
        fn = r.functions[consumer]
        template.has_resource_properties("AWS::Events::Rule", {
            "EventBusName": ref_id(synth, r.buses[bus.logical_id]),
            "EventPattern": {"source": [bus.source]},
            "State": "ENABLED",
            "Targets": [Match.object_like({
                "Arn": arn_of(synth, fn),
                "RetryPolicy": {"MaximumRetryAttempts": bus.retry_attempts,
                                "MaximumEventAgeInSeconds": bus.max_event_age_s},
                "DeadLetterConfig": {"Arn": failures},
            })],
        })
        template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {
            "FunctionName": ref_id(synth, fn),
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": bus.retry_attempts,
            "MaximumEventAgeInSeconds": bus.max_event_age_s,
            "DestinationConfig": {"OnFailure": {"Destination": failures}},
        })


# --- functions -------------------------------------------------------------------------------


@FUNCTIONS
def test_functions(synth, f):
    fn = synth.stack.resources.functions[f.logical_id]
    props = synth.resources[synth.logical_id(fn)]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == f.handler
    assert (props["Timeout"], props["MemorySize"]) == (f.timeout_s, f.memory_mb)
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    log_group = synth.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup" and log_group["Properties"]["RetentionInDays"] > 0
    assert props.get("ReservedConcurrentExecutions") == f.reserved_concurrency
    expected_env = {k: v if isinstance(v, str) else synth.resolve(synth.stack.resources.resolve(v))
                    for k, v in f.environment.items()}
    assert props["Environment"]["Variables"] == expected_env


def test_one_code_asset_for_every_function(synth):
    codes = {json.dumps(fn["Properties"]["Code"], sort_keys=True)
             for fn in synth.of_type("AWS::Lambda::Function").values()}
    assert len(codes) == 1


@FUNCTIONS
def test_function_alarms(synth, template, f):
    fn = synth.stack.resources.functions[f.logical_id]
    dims = [{"Name": "FunctionName", "Value": ref_id(synth, fn)}]
    for metric in ("Errors", "Throttles"):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "MetricName": metric, "Namespace": "AWS/Lambda", "Dimensions": dims, "Threshold": 1,
            "Statistic": "Sum"})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "Duration", "Namespace": "AWS/Lambda", "Dimensions": dims, "ExtendedStatistic": "p90",
        "Threshold": round(f.timeout_s * 1000 * DURATION_ALARM_FRACTION)})


# --- the API ---------------------------------------------------------------------------------


def test_api_function_is_a_version_behind_a_live_alias_deployed_as_a_canary(synth, template):
    api = synth.stack.api
    fn = synth.stack.resources.functions[API_FUNCTION]
    alias_id = synth.logical_id(api.alias)
    alias = synth.resources[alias_id]
    assert alias["Properties"]["Name"] == LIVE_ALIAS
    assert alias["Properties"]["FunctionName"] == ref_id(synth, fn)
    version = synth.resources[alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]]
    assert version["Type"] == "AWS::Lambda::Version" and version["Properties"]["FunctionName"] == ref_id(synth, fn)
    group_id = synth.logical_id(api.deployment_group)
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"] == {"Ref": group_id}
    group = synth.resources[group_id]["Properties"]
    assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["DeploymentStyle"] == {"DeploymentOption": "WITH_TRAFFIC_CONTROL", "DeploymentType": "BLUE_GREEN"}
    assert group["AlarmConfiguration"] == {"Alarms": [{"Name": {"Ref": synth.logical_id(api.canary_alarm)}}],
                                           "Enabled": True}
    assert set(group["AutoRollbackConfiguration"]["Events"]) >= {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    canary = synth.resources[synth.logical_id(api.canary_alarm)]["Properties"]
    assert canary["MetricName"] == "Errors"
    assert {"Name": "Resource", "Value": {"Fn::Join": ["", [ref_id(synth, fn), f":{LIVE_ALIAS}"]]}} in canary["Dimensions"]


def test_api_gateway_proxies_to_the_alias_with_iam_authorization_and_validation(synth, template):
    api = synth.stack.api
    alias = synth.logical_id(api.alias)
    validator_id = synth.logical_id(api.validator)
    assert synth.resources[validator_id]["Properties"].items() >= {
        "ValidateRequestBody": True, "ValidateRequestParameters": True}.items()
    methods = synth.of_type("AWS::ApiGateway::Method")
    assert len(methods) == 2  # / and /{proxy+}
    for method in methods.values():
        props = method["Properties"]
        assert props["HttpMethod"] == "ANY"
        assert props["AuthorizationType"] == "AWS_IAM"
        assert props["RequestValidatorId"] == {"Ref": validator_id}
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert {"Ref": alias} in json.loads(json.dumps(props["Integration"]["Uri"]))["Fn::Join"][1]
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "{proxy+}"})
    template.has_resource_properties("AWS::ApiGateway::Method", {
        "RequestParameters": {"method.request.path.proxy": True}})


def test_api_stage_throttles_and_logs(synth):
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    settings = synth.stack.settings
    assert props["StageName"] == settings.stage
    assert props["TracingEnabled"] is True
    (method_settings,) = props["MethodSettings"]
    assert method_settings.items() >= {"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR",
                                       "ThrottlingRateLimit": settings.api_rate_limit,
                                       "ThrottlingBurstLimit": settings.api_burst_limit,
                                       "DataTraceEnabled": False}.items()
    access = props["AccessLogSetting"]
    assert {"Ref": synth.logical_id(synth.stack.api.access_logs)} in access["DestinationArn"]["Fn::Join"][1]
    assert {"requestId", "status", "user", "integrationLatency"} <= set(json.loads(access["Format"]))


# --- state machines --------------------------------------------------------------------------


@STATE_MACHINES
def test_state_machines_log_everything_and_trace(synth, template, sm):
    machine = synth.stack.resources.state_machines[sm.logical_id]
    props = synth.resources[synth.logical_id(machine)]["Properties"]
    assert props["StateMachineName"] == f"{synth.stack.stack_name}-{sm.logical_id}"
    assert props["StateMachineType"] == sm.type
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    # Inputs and outputs (pickups, dropoffs) stay out of the logs unless -c log_execution_data=true.
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ALL", False)
    group_id = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = synth.resources[group_id]["Properties"]
    assert group["LogGroupName"].startswith("/aws/vendedlogs/states/")
    assert props["RoleArn"] == arn_of(synth, synth.stack.state_machines.roles[sm.logical_id])


@STATE_MACHINES
def test_state_machine_alarms(synth, template, sm):
    arn = ref_id(synth, synth.stack.resources.state_machines[sm.logical_id])
    for metric, threshold in (("ExecutionsFailed", synth.stack.settings.failed_executions_threshold),
                              ("ExecutionsTimedOut", 1), ("ExecutionThrottled", 1)):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "MetricName": metric, "Namespace": "AWS/States", "Threshold": threshold,
            "Dimensions": [{"Name": "StateMachineArn", "Value": arn}]})


def test_state_machine_roles_trust_only_step_functions_for_this_state_machine(synth):
    for sm in catalog.STATE_MACHINES:
        role = synth.resources[synth.logical_id(synth.stack.state_machines.roles[sm.logical_id])]
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "states.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == synth.resolve(
            synth.stack.resources.state_machine_arn(sm.logical_id))
        assert "ManagedPolicyArns" not in role["Properties"]


# --- observability and outputs -----------------------------------------------------------------


def test_one_dashboard_and_an_alarm_per_metric(synth, template):
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    expected = (3 * len(catalog.STATE_MACHINES) + 3 * len(catalog.FUNCTIONS) + 2 * len(catalog.QUEUES)
                + 1  # API 5XX
                + 1)  # the canary's rollback alarm
    template.resource_count_is("AWS::CloudWatch::Alarm", expected)


def test_every_alarm_notifies_the_stacks_topic(synth, template):
    topic = synth.stack.observability.topic
    topic_ref = {"Ref": synth.logical_id(topic)}
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    assert alarms and all(topic_ref in a["Properties"].get("AlarmActions", []) for a in alarms.values())
    props = synth.resources[synth.logical_id(topic)]["Properties"]
    assert "TopicName" not in props  # named by CloudFormation: stacks never collide


def test_the_alarm_email_is_a_deployment_parameter(synth):
    param = synth.template["Parameters"]["AlarmEmail"]
    assert (param["Type"], param["Default"]) == ("String", "")
    (subscription,) = synth.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    condition = synth.template["Conditions"][subscription["Condition"]]
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def test_the_dlq_alarms_on_its_oldest_message_before_it_expires(synth, template):
    dlq = synth.stack.resources.queues["Dlq"]
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ApproximateAgeOfOldestMessage",
        "Namespace": "AWS/SQS",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [synth.logical_id(dlq), "QueueName"]}}],
        "Statistic": "Maximum",
        "Threshold": 14 * 86400 // 4,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    })


def test_outputs_have_stable_documented_names(synth):
    outputs = synth.template["Outputs"]
    expected = {naming.API_URL_OUTPUT, naming.API_ID_OUTPUT, naming.STAGE_OUTPUT}
    expected |= {naming.output_key(ref) for ref in naming.output_refs()}
    assert set(outputs) == expected
    assert {"ApiUrl", "DlqUrl"} <= set(outputs)
    for sm in catalog.STATE_MACHINES:
        assert outputs[f"{sm.logical_id}StateMachineArn"]["Value"] == synth.resolve(
            synth.stack.resources.state_machine_arn(sm.logical_id))
    for t in catalog.TABLES:
        assert outputs[f"{t.logical_id}TableName"]["Value"] == ref_id(synth, synth.stack.resources.tables[t.logical_id])
    for key, ref in catalog.SUBSTITUTIONS.items():
        assert outputs[key]["Value"] == synth.resolve(synth.stack.resources.resolve(ref))
    readme = (catalog.ROOT / "README.md").read_text()
    for name in ("ApiUrl", "ApiId", "Stage", "DlqUrl", "CarsTableName", "RegisterCarStateMachineArn",
                 "<LogicalId><Kind><Attribute>"):
        assert name in readme, f"README.md does not document the output {name}"


def test_naming_resolves_a_deployed_stack_from_its_outputs(synth):
    fake_outputs = {k: f"value-of-{k}" for k in synth.template["Outputs"]}
    resolve = naming.resolver_from_outputs(fake_outputs)
    assert resolve(Ref("queue", "Dlq", "url")) == "value-of-DlqUrl"
    for ref in catalog.SUBSTITUTIONS.values():
        assert resolve(ref) == f"value-of-{naming.output_key(ref)}"
    with pytest.raises(KeyError, match="no output"):
        resolve(Ref("table", "Nope", "arn"))


def test_executions_that_end_without_their_clean_up_reach_release_stranded(synth, template):
    (rule_def,) = catalog.EXECUTION_STATUS_RULES
    rule = synth.resources[synth.logical_id(synth.stack.event_routing.rules[("default", rule_def.function)])]
    props = rule["Properties"]
    assert "EventBusName" not in props or props["EventBusName"] == "default"  # the account's default bus
    pattern = props["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert pattern["detail"]["stateMachineArn"] == [
        synth.resolve(synth.stack.resources.state_machine_arn(sm)) for sm in rule_def.state_machines]
    fn = synth.stack.resources.functions[rule_def.function]
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synth.logical_id(fn), "Arn"]}
    assert "DeadLetterConfig" in target
