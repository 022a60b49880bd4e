"""State machines from statemachines/*.asl.json, unchanged: DefinitionSubstitutions resolve the
same ${Placeholders} the local cloud resolves; logging ALL with execution data; X-Ray tracing;
and a role per state machine that allows exactly what its Task states use
(workflows/definitions/permissions.py), plus log delivery and tracing."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.resources import CatalogResources
from infra.settings import Settings
from workflows.definitions import catalog, permissions


class StateMachines(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, resources: CatalogResources):
        super().__init__(scope, construct_id)
        self.roles: dict[str, iam.Role] = {}
        self.permissions: dict[str, list[permissions.Permission]] = {}
        for sm in catalog.STATE_MACHINES:
            scope_ = Construct(self, sm.logical_id)
            name = resources.state_machine_names[sm.logical_id]
            definition = sm.definition()
            granted = permissions.permissions(permissions.analyze(definition))

            role = iam.Role(
                scope_, "Role",
                description=f"{name}: exactly what its Task states use",
                # Only Step Functions, for this state machine in this account (confused deputy).
                assumed_by=iam.ServicePrincipal("states.amazonaws.com", conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": resources.state_machine_arn(sm.logical_id)},
                }),
            )
            for statement in resources.policy_statements(granted):
                role.add_to_policy(statement)

            log_group = logs.LogGroup(
                scope_, "Logs",
                # The vended-logs prefix keeps the CloudWatch Logs resource policy small.
                log_group_name=f"/aws/vendedlogs/states/{name}",
                retention=settings.log_retention,
                removal_policy=settings.removal_policy,
            )
            machine = sfn.StateMachine(
                scope_, "StateMachine",
                state_machine_name=name,
                state_machine_type=sfn.StateMachineType[sm.type],
                definition_body=sfn.DefinitionBody.from_string(definition),
                definition_substitutions=resources.substitutions(sm),
                role=role,
                logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                    include_execution_data=settings.log_execution_data),
                tracing_enabled=True,
                removal_policy=settings.removal_policy,
            )
            resources.state_machines[sm.logical_id] = machine
            self.roles[sm.logical_id] = role
            self.permissions[sm.logical_id] = granted
