"""The REST API: the API function published as a version behind a `live` alias, shifted by
CodeDeploy as a canary (10% for 5 minutes, rolled back on an alarm), and API Gateway proxying
every path to the alias with IAM (SigV4) authorization, stage throttling, access logs and
request validation."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.resources import CatalogResources
from infra.settings import Settings

API_FUNCTION = "FleetApi"  # the catalog function behind API Gateway
LIVE_ALIAS = "live"


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, resources: CatalogResources):
        super().__init__(scope, construct_id)
        fn = resources.functions[API_FUNCTION]

        # --- the function: a version per change, traffic shifted by CodeDeploy ----------------
        self.alias = lambda_.Alias(self, "LiveAlias", alias_name=LIVE_ALIAS, version=fn.current_version,
                                   description="What API Gateway invokes; CodeDeploy moves it version by version")
        self.canary_alarm = cloudwatch.Alarm(
            self, "CanaryErrors",
            alarm_description=f"{API_FUNCTION}:{LIVE_ALIAS} raised errors during a deployment: CodeDeploy rolls back",
            metric=self.alias.metric_errors(period=Duration.minutes(1), statistic="Sum"),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self, "Deployment",
            alias=self.alias,
            deployment_config=codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
            alarms=[self.canary_alarm],
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True),
        )

        # --- API Gateway --------------------------------------------------------------------
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=settings.log_retention,
                                         removal_policy=settings.removal_policy)
        self.rest_api = apigw.RestApi(
            self, "RestApi",
            rest_api_name=f"{settings.stack_name}-api",
            description="Car fleet API: start and resume the workflows (IAM authorized)",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.REGIONAL]),
            # Execution logging needs the account's API Gateway CloudWatch role; kept on delete,
            # as it is an account-wide setting other APIs may rely on.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage,
                throttling_rate_limit=settings.api_rate_limit,
                throttling_burst_limit=settings.api_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies stay out of the execution logs
                metrics_enabled=True,
                tracing_enabled=True,
            ),
        )
        # The stack publishes the URL under a stable output name (infra/naming.py), not CDK's default.
        self.rest_api.node.try_remove_child("Endpoint")
        # Parameters are checked at the edge; bodies are validated by the handler's Pydantic models,
        # which answer 422 with the fields at fault (the API's contract), not API Gateway's 400.
        self.validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True)
        integration = apigw.LambdaIntegration(self.alias, proxy=True, allow_test_invoke=False)
        method_options = dict(authorization_type=apigw.AuthorizationType.IAM, request_validator=self.validator)
        self.rest_api.root.add_method("ANY", integration, **method_options)
        self.rest_api.root.add_resource("{proxy+}").add_method(
            "ANY", integration, request_parameters={"method.request.path.proxy": True}, **method_options)

    @property
    def url(self) -> str:
        return self.rest_api.url


ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "errorMessage": "$context.error.message",
    "sourceIp": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.userArn",
    "protocol": "$context.protocol",
    "xrayTraceId": "$context.xrayTraceId",
}
