"""A local cloud shared by a hostile-input module, with the tables seeded (tests/reliability/hostile.py
SEED) and helpers to snapshot them, restore them and stop what is still running."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tests.reliability.hostile import SEED
from workflows.definitions import catalog
from workflows.local.cloud import LocalCloud

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _decimals(value: Any) -> Any:
    return json.loads(json.dumps(value), parse_float=Decimal)


class Tables:
    """Snapshot, compare and restore the fleet's tables through the DynamoDB API."""

    def __init__(self, cloud: LocalCloud, seed: dict[str, list[dict[str, Any]]]):
        self.cloud = cloud
        self.ddb = cloud.client("dynamodb")
        self.seed = seed
        self.restore()
        self.seeded = self.snapshot()

    def reseed(self, seed: dict[str, list[dict[str, Any]]]) -> None:
        self.seed = seed
        self.restore()
        self.seeded = self.snapshot()

    def seeded_view(self, tables: tuple[str, ...]) -> dict[str, list]:
        return {t: self.seeded[t] for t in tables}

    def snapshot(self, tables: tuple[str, ...] = ("Cars", "Rides", "MaintenanceJobs", "CarHistory", "Idempotency")
                 ) -> dict[str, list]:
        snap = {}
        for logical in tables:
            t = catalog.table(logical)
            items = []
            for page in self.ddb.get_paginator("scan").paginate(TableName=t.table_name, ConsistentRead=True):
                items += [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]
            key = (t.partition_key, t.sort_key)
            snap[logical] = sorted(items, key=lambda i: tuple(str(i.get(k)) for k in key if k))
        return snap

    def restore(self) -> None:
        # The audit events of what ran before are delivered first: none may land after the restore.
        assert self.cloud.runtime.wait_for_async(10), "asynchronous events still undelivered after 10 s"
        for t in catalog.TABLES:
            keys = [k for k in (t.partition_key, t.sort_key) if k]
            for page in self.ddb.get_paginator("scan").paginate(TableName=t.table_name):
                for item in page["Items"]:
                    self.ddb.delete_item(TableName=t.table_name, Key={k: item[k] for k in keys})
            for item in self.seed.get(t.logical_id, []):
                self.ddb.put_item(TableName=t.table_name,
                                  Item={k: _serializer.serialize(v) for k, v in _decimals(item).items()
                                        if v is not None})

    def stop_executions(self) -> None:
        """Stop every running execution and wait for it: nothing writes behind the next example."""
        from workflows.local import adapter

        sfn = self.cloud.client("stepfunctions")
        for sm in catalog.STATE_MACHINES:
            arn = self.cloud.state_machine_arn(sm.workflow)
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING"):
                for ex in page["executions"]:
                    sfn.stop_execution(executionArn=ex["executionArn"], cause="hostile-input test")
        adapter.interrupt_waits()  # a stopped execution's task-token wait ends now, not at its timeout
        assert adapter.wait_for_executions(timeout_s=10), "a stopped execution's worker did not end"


@pytest.fixture(scope="module")
def seeded_cloud() -> Iterator[tuple[LocalCloud, Tables]]:
    with LocalCloud(virtual_time=True) as cloud:
        yield cloud, Tables(cloud, SEED)
