"""The fleet stack, assembled from the catalog, one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import lambda_asset, nag
from infra.components.api import Api
from infra.components.functions import Functions
from infra.components.messaging import EventRouting, Messaging
from infra.components.observability import Observability
from infra.components.state_machines import StateMachines
from infra.components.tables import Tables
from infra.resources import CatalogResources
from infra.settings import Settings
from workflows.definitions import naming
from workflows.definitions.catalog import Ref


class FleetStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings,
                 code: lambda_.Code | None = None, **kwargs: Any):
        super().__init__(scope, construct_id,
                         description="Car fleet workflows: Step Functions, Lambda, DynamoDB, SQS, EventBridge, API Gateway",
                         **kwargs)
        self.settings = settings
        self.resources = CatalogResources(self)
        Tags.of(self).add("project", "car-fleet-workflows")
        Tags.of(self).add("stage", settings.stage)

        r = self.resources
        self.tables = Tables(self, "Tables", settings=settings, resources=r)
        self.messaging = Messaging(self, "Messaging", settings=settings, resources=r)
        self.functions = Functions(self, "Functions", settings=settings, resources=r,
                                   code=code or lambda_asset.code())
        self.event_routing = EventRouting(self, "EventRouting", resources=r)
        self.state_machines = StateMachines(self, "StateMachines", settings=settings, resources=r)
        self.api = Api(self, "Api", settings=settings, resources=r)
        self.observability = Observability(self, "Observability", settings=settings, resources=r, api=self.api)
        self._outputs()
        nag.suppress(self, self.resources, self.state_machines, self.api)

    def _outputs(self) -> None:
        """Stable names (infra/naming.py): `fleet --target aws` reads them from CloudFormation."""
        CfnOutput(self, naming.API_URL_OUTPUT, value=self.api.url, description="The REST API (IAM authorized)")
        CfnOutput(self, naming.API_ID_OUTPUT, value=self.api.rest_api.rest_api_id, description="The REST API's id")
        CfnOutput(self, naming.STAGE_OUTPUT, value=self.settings.stage, description="The deployment stage")
        for ref in naming.output_refs():
            CfnOutput(self, naming.output_key(ref), value=self.resources.resolve(ref), description=_describe(ref))


def _describe(ref: Ref) -> str:
    kind = ref.kind.replace("_", " ")
    return f"{ref.attribute} of the {kind} {ref.logical_id}"
