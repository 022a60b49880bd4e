"""Unit tests: the domain package and the handlers, called directly; AWS emulated by moto."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from workflows.definitions import catalog

for _key, _value in {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "CarFleet",
    "POWERTOOLS_SERVICE_NAME": "fleet",
    "AWS_DEFAULT_REGION": "us-east-1",
    "CARS_TABLE": catalog.table("Cars").table_name,
    "CAR_HISTORY_TABLE": catalog.table("CarHistory").table_name,
}.items():
    os.environ.setdefault(_key, _value)


@dataclass
class FakeLambdaContext:
    function_name: str = "fleet-unit-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fleet-unit-test"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 5_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def create_table(client: Any, table: catalog.Table, name: str | None = None) -> None:
    """A table exactly as the catalog declares it: keys, attribute types and indexes."""
    keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
    for ix in table.indexes:
        keys += [ix.partition_key] + ([ix.sort_key] if ix.sort_key else [])

    def schema(pk: str, sk: str | None) -> list[dict[str, str]]:
        return [{"AttributeName": pk, "KeyType": "HASH"}] + ([{"AttributeName": sk, "KeyType": "RANGE"}] if sk else [])

    args: dict[str, Any] = {
        "TableName": name or table.table_name,
        "KeySchema": schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": table.key_type(k)} for k in dict.fromkeys(keys)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        args["GlobalSecondaryIndexes"] = [
            {"IndexName": ix.name, "KeySchema": schema(ix.partition_key, ix.sort_key), "Projection": {"ProjectionType": "ALL"}}
            for ix in table.indexes
        ]
    client.create_table(**args)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """Emulated DynamoDB with the Cars and CarHistory tables; yields a boto3 client on it."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for logical_id in ("Cars", "CarHistory"):
            create_table(client, catalog.table(logical_id))
        yield client
