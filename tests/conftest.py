"""Shared fixtures: a fresh local cloud per test on a virtual clock, and table helpers."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from tests.browser.fixtures import browser, page  # noqa: F401 - one Chromium for every browser test
from workflows.definitions import catalog
from workflows.definitions.catalog import Ref
from workflows.local.cloud import LocalCloud, resolve
from workflows.targets import stepfunctions


def pytest_configure(config: pytest.Config) -> None:
    """Every AWS call the functions make in this session, by function (checked against their
    roles by tests/infra/test_least_privilege.py)."""
    from workflows.local.call_log import CallLog

    config.fleet_call_log = CallLog().__enter__()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    log = getattr(config, "fleet_call_log", None)
    if log is not None:
        log.__exit__(None, None, None)


class Fleet:
    """A test's view of the local cloud: run workflows, read tables and the DLQ."""

    def __init__(self, cloud: LocalCloud):
        self.cloud = cloud
        self.sfn = cloud.client("stepfunctions")
        self.ddb = cloud.client("dynamodb")
        self.sqs = cloud.client("sqs")

    def run(self, workflow: str, payload: dict, name: str | None = None, timeout_s: float = 30) -> stepfunctions.ExecutionResult:
        arn = self.start(workflow, payload, name)
        return stepfunctions.describe(self.sfn, arn, self.cloud.wait(arn, timeout_s))

    def start(self, workflow: str, payload: dict, name: str | None = None) -> str:
        sm = catalog.workflow(workflow)
        return self.cloud.start_execution(workflow, payload, name or stepfunctions.execution_name(sm, payload))

    def item(self, table: str, **key: str) -> dict[str, Any] | None:
        resp = self.ddb.get_item(TableName=catalog.table(table).table_name,
                                 Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
        return _plain(resp["Item"]) if "Item" in resp else None

    def items(self, table: str) -> list[dict[str, Any]]:
        return [_plain(i) for i in self.ddb.scan(TableName=catalog.table(table).table_name)["Items"]]

    def dlq(self) -> list[dict[str, Any]]:
        """Every DLQ message body, oldest first, left in the queue (read, then made visible again).
        Each has its row in the Failures table, written by RecordFailure with the same content."""
        url = resolve(Ref("queue", "Dlq", "url"))
        held: dict[str, dict[str, Any]] = {}
        while batch := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                                AttributeNames=["SentTimestamp"]).get("Messages", []):
            held.update({m["MessageId"]: m for m in batch})
        for m in held.values():
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        bodies = [json.loads(m["Body"]) for m in sorted(held.values(), key=lambda m: int(m["Attributes"]["SentTimestamp"]))]
        for body in bodies:
            row = self.item("Failures", failure_id=hashlib.sha1(body["execution_arn"].encode()).hexdigest())
            assert row is not None, f"no Failures row for the DLQ message of {body['execution_arn']}"
            assert {k: row[k] for k in ("execution_arn", "workflow", "failed_state", "error", "cause")} == \
                {k: body[k] for k in ("execution_arn", "workflow", "failed_state", "error", "cause")}
            assert json.loads(row["input"]) == body["input"]
            # An open failure stays until handled; a redriven one expires with the queue's retention.
            assert ("ttl" in row) == (row["status"] == "redriven")
            assert "ttl" not in row or int(row["ttl"]) > time.time() + 13 * 86400
        return bodies

    def dead_letters(self) -> Any:
        """The operators' DLQ (fleet_domain.control.dlq) on this cloud: the Failures table and the queue."""
        from fleet_domain.control.dlq import DeadLetterQueue
        from fleet_domain.data.failures import FailureRepository

        return DeadLetterQueue(self.sqs, resolve(Ref("queue", "Dlq", "url")),
                               FailureRepository(self.ddb, catalog.table("Failures").table_name))

    def failures(self) -> list[dict[str, Any]]:
        """The Failures table's rows, oldest first."""
        return sorted(self.items("Failures"), key=lambda r: (r["failed_at"], r["failure_id"]))


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    d = TypeDeserializer()
    return {k: d.deserialize(v) for k, v in item.items()}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(virtual_time=True) as c:
        yield c


@pytest.fixture
def fleet(cloud: LocalCloud) -> Fleet:
    return Fleet(cloud)


@pytest.fixture
def faulty_fleet() -> Iterator[Any]:
    """A factory: faulty_fleet({"InspectCar": [FaultRule(...)]}) -> a Fleet on a cloud with faults."""
    from workflows.local.faults import Faults

    clouds: list[LocalCloud] = []

    def make(rules: dict, seed: int = 3, tables: dict | None = None) -> Fleet:
        c = LocalCloud(virtual_time=True, fault_hook=Faults(rules, seed=seed, tables=tables)).start()
        clouds.append(c)
        return Fleet(c)

    yield make
    for c in clouds:
        c.stop()
