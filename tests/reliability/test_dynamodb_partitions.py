"""A DynamoDB Query reads only the partition it names (speedups.dynamodb_query_by_partition):
the answers are moto's own, whatever the writes before (puts, updates moving an item between
partitions, deletes, transactions rolled back), and no Query reads the whole table."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.table import Table

from workflows.definitions import catalog
from workflows.local.adapter.speedups import dynamodb_query_by_partition

CARS = catalog.table("Cars").table_name
JOBS = catalog.table("MaintenanceJobs").table_name
STATUSES = ["AVAILABLE", "RESERVED", "ON_TRIP", "IN_MAINTENANCE", "RETIRED"]


def _queries(ddb) -> list[dict]:
    answers = []
    for status in [*STATUSES, "NONE_SUCH"]:
        for forward in (True, False):
            pages = ddb.get_paginator("query").paginate(
                TableName=CARS, IndexName="status-index", KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": status}},
                ScanIndexForward=forward, PaginationConfig={"PageSize": 7})
            answers.append([(p["Items"], p["Count"], p.get("LastEvaluatedKey")) for p in pages])
        answers.append(ddb.query(
            TableName=CARS, IndexName="status-index", KeyConditionExpression="#s = :s AND car_id BETWEEN :a AND :b",
            FilterExpression="battery_pct > :low", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":a": {"S": "car-010"}, ":b": {"S": "car-050"},
                                       ":low": {"N": "50"}})["Items"])
    for car in ("car-003", "car-077", "car-none"):
        answers.append(ddb.query(TableName=JOBS, IndexName="car-index", KeyConditionExpression="car_id = :c",
                                 ExpressionAttributeValues={":c": {"S": car}})["Items"])
        answers.append(ddb.query(TableName=CARS, KeyConditionExpression="car_id = :c",
                                 ExpressionAttributeValues={":c": {"S": car}})["Items"])
    return answers


def _write(ddb, rng: random.Random, n: int) -> None:
    for _ in range(n):
        car = f"car-{rng.randrange(100):03d}"
        roll = rng.random()
        if roll < 0.4:
            ddb.put_item(TableName=CARS, Item={"car_id": {"S": car}, "status": {"S": rng.choice(STATUSES)},
                                               "battery_pct": {"N": str(rng.randrange(100))}})
        elif roll < 0.7:
            ddb.update_item(TableName=CARS, Key={"car_id": {"S": car}}, UpdateExpression="SET #s = :s",
                            ExpressionAttributeNames={"#s": "status"},
                            ExpressionAttributeValues={":s": {"S": rng.choice(STATUSES)}})
        elif roll < 0.8:
            ddb.delete_item(TableName=CARS, Key={"car_id": {"S": car}})
        elif roll < 0.9:
            ddb.put_item(TableName=JOBS, Item={"job_id": {"S": f"job-{rng.randrange(1000)}"}, "car_id": {"S": car}})
        else:  # a transaction that moves one car and fails on another: rolled back, nothing moves
            try:
                ddb.transact_write_items(TransactItems=[
                    {"Update": {"TableName": CARS, "Key": {"car_id": {"S": car}}, "UpdateExpression": "SET #s = :s",
                                "ExpressionAttributeNames": {"#s": "status"},
                                "ExpressionAttributeValues": {":s": {"S": "RESERVED"}}}},
                    {"ConditionCheck": {"TableName": CARS, "Key": {"car_id": {"S": "car-none"}},
                                        "ConditionExpression": "attribute_exists(car_id)"}}])
            except ClientError:
                pass


def test_a_query_answers_as_moto_does_after_any_writes(cloud):
    ddb = cloud.client("dynamodb")
    rng = random.Random(11)
    for _ in range(4):
        _write(ddb, rng, 150)
        narrowed = _queries(ddb)
        with dynamodb_query_by_partition.SEAM.removed():
            assert _queries(ddb) == narrowed


def test_no_query_reads_the_whole_table(cloud, monkeypatch: pytest.MonkeyPatch):
    ddb = cloud.client("dynamodb")
    _write(ddb, random.Random(5), 200)
    _queries(ddb)  # the partitions are built at the first indexed Query
    reads = []
    whole_table = Table.all_items
    monkeypatch.setattr(Table, "all_items", lambda table: reads.append(table.name) or whole_table(table))
    _write(ddb, random.Random(6), 50)
    _queries(ddb)
    assert reads == []


def test_a_request_waits_only_for_requests_on_its_tables(cloud):
    """Isolation is per table (fixes.dynamodb_request_isolation): while a request holds the Cars
    table, one on Rides is answered and one on Cars waits for it."""
    import threading

    from workflows.local.adapter.fixes.dynamodb_request_isolation import LOCKS

    ddb = cloud.client("dynamodb")
    rides = catalog.table("Rides").table_name
    holding, release = threading.Event(), threading.Event()

    def hold_cars() -> None:
        with LOCKS.tables([CARS]):
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold_cars)
    holder.start()
    holding.wait()
    waiting = threading.Thread(target=lambda: ddb.get_item(TableName=CARS, Key={"car_id": {"S": "car-001"}}))
    waiting.start()
    try:
        assert ddb.get_item(TableName=rides, Key={"ride_id": {"S": "ride-1"}})["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert waiting.is_alive()  # still waiting for the Cars table
    finally:
        release.set()
        holder.join()
        waiting.join()


def test_the_tables_a_request_names():
    from workflows.local.adapter.fixes.dynamodb_request_isolation import tables_of

    assert tables_of("GetItem", {"TableName": "Cars"}) == ["Cars"]
    assert tables_of("Query", {"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/Cars"}) == ["Cars"]
    assert tables_of("BatchWriteItem", {"RequestItems": {"Cars": [], "Rides": []}}) == ["Cars", "Rides"]
    assert tables_of("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "Rides"}},
                                                               {"Update": {"TableName": "Cars"}}]}) == ["Rides", "Cars"]
    assert tables_of("ListTables", {}) is None
    assert tables_of("CreateTable", {"TableName": "New"}) is None
