"""DynamoDB tables from the catalog: on demand, point-in-time recovery, encrypted, with the
indexes the workflows query and a TTL where the catalog sets one."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.resources import CatalogResources
from infra.settings import Settings
from workflows.definitions import catalog


class Tables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, resources: CatalogResources):
        super().__init__(scope, construct_id)
        for t in catalog.TABLES:
            table = dynamodb.Table(
                self, t.logical_id,
                partition_key=_attribute(t, t.partition_key),
                sort_key=_attribute(t, t.sort_key) if t.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True),
                # The AWS managed key (aws/dynamodb): encrypted with KMS, no key to pay for or grant.
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=t.ttl_attribute,
                removal_policy=settings.removal_policy,
                deletion_protection=settings.is_production,
            )
            for ix in t.indexes:
                table.add_global_secondary_index(
                    index_name=ix.name,
                    partition_key=_attribute(t, ix.partition_key),
                    sort_key=_attribute(t, ix.sort_key) if ix.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            resources.tables[t.logical_id] = table


def _attribute(t: catalog.Table, name: str) -> dynamodb.Attribute:
    kind = dynamodb.AttributeType.NUMBER if t.key_type(name) == "N" else dynamodb.AttributeType.STRING
    return dynamodb.Attribute(name=name, type=kind)
