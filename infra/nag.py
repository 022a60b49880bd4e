"""cdk-nag AwsSolutions acknowledgments: each with its reason, each on the narrowest construct
and, for the granular rules (IAM4, IAM5), on the exact finding. Generic over the catalog."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from infra.components.api import Api
from infra.components.state_machines import StateMachines
from infra.lambda_asset import PYTHON_VERSION
from infra.resources import CatalogResources
from workflows.definitions import catalog

PACK = "AwsSolutions"

REASONS = {
    "xray": "X-Ray's PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets do not "
            "support resource-level permissions: active tracing needs Resource '*' for exactly these actions.",
    "log_delivery": "Step Functions' log delivery to CloudWatch Logs (logs:CreateLogDelivery, GetLogDelivery, "
                    "UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, "
                    "DescribeResourcePolicies, DescribeLogGroups) does not support resource-level permissions; "
                    "X-Ray's trace APIs neither. Every Task permission of this role is scoped to named resources.",
    "executions": "Execution ARNs carry the execution name, unknown in advance: `execution:<state machine>:*` "
                  "is every execution of exactly one state machine, the narrowest ARN IAM allows.",
    "failure_queue": "This queue is itself the end of a failure path (the workflows' DLQ, or the on-failure "
                     "destination of the event consumers): operators inspect and redrive it, and its depth "
                     "alarms at one message. A DLQ behind it would only hide failures.",
    "runtime": f"Python {PYTHON_VERSION} is a current, supported Lambda runtime, chosen deliberately: the "
               "bundled wheels (pydantic-core, ...) are resolved for exactly this version and architecture "
               "(infra/lambda_asset.py). Moving on is a one-line change once the suite runs on the newer one.",
    "codedeploy_role": "AWSCodeDeployRoleForLambdaLimited is AWS's purpose-built policy for CodeDeploy Lambda "
                       "deployments (update this alias's routing, invoke lifecycle hooks); AWS maintains it "
                       "as the service evolves.",
    "apigw_logs_role": "AmazonAPIGatewayPushToCloudWatchLogs is the account-level role API Gateway needs to "
                       "write execution logs (required for stage logging); it only grants CloudWatch Logs writes.",
    "iam_auth": "The API is authorized with IAM (SigV4): its callers are operators, the fleet CLI and services "
                "holding AWS credentials, not end users with Cognito identities. Unsigned requests are "
                "rejected before the integration.",
    "waf": "IAM-authorized operator API: unsigned requests never reach the function and stage throttling caps "
           "the rest. A WAF web ACL costs at rest (web ACL + rules per month); associate one when the API is "
           "exposed to the public.",
}


def suppress(stack: Stack, resources: CatalogResources, state_machines: StateMachines, api: Api) -> None:
    def ack(scope: IConstruct, finding: str, reason: str) -> None:
        Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{finding}", reason=reason))

    for f in catalog.FUNCTIONS:
        fn = resources.functions[f.logical_id]
        role = fn.role
        assert role is not None  # every function gets its own role (infra/components/functions.py)
        ack(role, "IAM5[Resource::*]", REASONS["xray"])
        ack(fn, "L1", REASONS["runtime"])
        for ref in f.environment.values():
            if isinstance(ref, catalog.Ref) and ref.kind == "state_machine":
                arn = resources.executions_arn(ref.logical_id)
                ack(role, f"IAM5[Resource::{nag_text(stack, arn)}]", REASONS["executions"])

    for sm in catalog.STATE_MACHINES:
        role = state_machines.roles[sm.logical_id]
        ack(role, "IAM5[Resource::*]", REASONS["log_delivery"])
        for p in state_machines.permissions[sm.logical_id]:
            if p.target.kind == "executions":
                arn = resources.target_arn(p.target)
                ack(role, f"IAM5[Resource::{nag_text(stack, arn)}]", REASONS["executions"])

    for q in catalog.QUEUES:
        ack(resources.queues[q.logical_id], "SQS3", REASONS["failure_queue"])

    ack(api.deployment_group, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
        REASONS["codedeploy_role"])
    ack(api.rest_api, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        REASONS["apigw_logs_role"])
    ack(api.rest_api.root, "COG4", REASONS["iam_auth"])
    ack(api.rest_api.deployment_stage, "APIG3", REASONS["waf"])


def nag_text(stack: Stack, token: str) -> str:
    """A token as cdk-nag prints it in a finding id: Ref -> <Name>, GetAtt -> <Id.Attr>."""
    return _render(stack.resolve(token))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_render(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    raise ValueError(f"cannot render {value!r} as cdk-nag does")
