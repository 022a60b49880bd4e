"""Lambda functions from the catalog: Python 3.13 on arm64, one shared code asset, active X-Ray
tracing, JSON logs into a log group with a retention, the catalog's environment with its Refs
resolved, reserved concurrency where the catalog sets one, and a role of its own that allows its
catalog grants (the actions it calls, on the resources it calls them on) and nothing else."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import lambda_asset
from infra.resources import CatalogResources
from infra.settings import Settings
from workflows.definitions import catalog
from workflows.definitions.catalog import Ref


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, resources: CatalogResources,
                 code: lambda_.Code):
        super().__init__(scope, construct_id)
        self.log_groups: dict[str, logs.LogGroup] = {}
        for f in catalog.FUNCTIONS:
            scope_ = Construct(self, f.logical_id)
            log_group = logs.LogGroup(scope_, "Logs", retention=settings.log_retention,
                                      removal_policy=settings.removal_policy)
            role = iam.Role(scope_, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                            description=f"{f.function_name}: its logs, traces and what its catalog grants allow")
            fn = lambda_.Function(
                scope_, "Function",
                description=f.description,
                runtime=lambda_asset.RUNTIME,
                architecture=lambda_asset.ARCHITECTURE,
                handler=f.handler,
                code=code,
                timeout=Duration.seconds(f.timeout_s),
                memory_size=f.memory_mb,
                # Function Refs are added below, once every function exists.
                environment={k: v if isinstance(v, str) else resources.resolve(v)
                             for k, v in f.environment.items() if not (isinstance(v, Ref) and v.kind == "function")},
                tracing=lambda_.Tracing.ACTIVE,
                logging_format=lambda_.LoggingFormat.JSON,
                application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
                system_log_level_v2=lambda_.SystemLogLevel.WARN,
                log_group=log_group,
                role=role,
                reserved_concurrent_executions=f.reserved_concurrency,
            )
            log_group.grant_write(role)
            self.log_groups[f.logical_id] = log_group
            resources.functions[f.logical_id] = fn

        for f in catalog.FUNCTIONS:
            fn = resources.functions[f.logical_id]
            for key, value in f.environment.items():
                if isinstance(value, Ref) and value.kind == "function":
                    fn.add_environment(key, resources.resolve(value))
            for grant in f.grants:
                resources.grant(fn, grant)
