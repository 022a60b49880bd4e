"""Tables hold the items not used lately as bytes (design.compact_items): every DynamoDB request
answers as it did when every item was moto's object, and memory holds few of those objects."""

from __future__ import annotations

import gc

import pytest
from botocore.exceptions import ClientError

from workflows.local.adapter.design import compact_items


@pytest.fixture
def dynamodb(cloud, monkeypatch):
    monkeypatch.setattr(compact_items, "HOT_ITEMS", 3)  # nearly every item cold between requests
    client = cloud.client("dynamodb")
    client.create_table(
        TableName="Cars", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "car_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("car_id", "status")],
        GlobalSecondaryIndexes=[{"IndexName": "status-index", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                               {"AttributeName": "car_id", "KeyType": "RANGE"}]}])
    client.create_table(
        TableName="History", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "car_id", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "car_id", "AttributeType": "S"},
                              {"AttributeName": "version", "AttributeType": "N"}])
    return client


def car(n: int, status: str = "AVAILABLE") -> dict:
    return {"car_id": {"S": f"car-{n:03d}"}, "status": {"S": status}, "battery": {"N": str(50 + n % 50)},
            "location": {"M": {"lat": {"N": "52.5"}, "tags": {"L": [{"S": "a"}, {"BOOL": True}, {"NULL": True}]}}},
            "seats": {"NS": ["2", "4"]}, "photo": {"B": b"\x00\x01"}}


def test_every_request_answers_as_with_every_item_held_whole(dynamodb):
    for n in range(40):
        dynamodb.put_item(TableName="Cars", Item=car(n, "AVAILABLE" if n % 4 else "RESERVED"))
    assert dynamodb.get_item(TableName="Cars", Key={"car_id": {"S": "car-007"}})["Item"] == car(7)

    dynamodb.update_item(TableName="Cars", Key={"car_id": {"S": "car-001"}}, UpdateExpression="SET #s = :r ADD battery :one",
                         ConditionExpression="#s = :a", ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":r": {"S": "RESERVED"}, ":a": {"S": "AVAILABLE"}, ":one": {"N": "1"}})
    for n in range(2, 30):  # push car-001 out of the held objects
        dynamodb.get_item(TableName="Cars", Key={"car_id": {"S": f"car-{n:03d}"}})
    after = dynamodb.get_item(TableName="Cars", Key={"car_id": {"S": "car-001"}})["Item"]
    assert after == {**car(1), "status": {"S": "RESERVED"}, "battery": {"N": "52"}}
    with pytest.raises(ClientError) as refused:  # the condition reads the cold item
        dynamodb.update_item(TableName="Cars", Key={"car_id": {"S": "car-001"}}, UpdateExpression="SET #s = :r",
                             ConditionExpression="#s = :a", ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":r": {"S": "RESERVED"}, ":a": {"S": "AVAILABLE"}})
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"

    reserved = dynamodb.query(TableName="Cars", IndexName="status-index", KeyConditionExpression="#s = :r",
                              ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":r": {"S": "RESERVED"}})
    assert [i["car_id"]["S"] for i in reserved["Items"]] == ["car-000", "car-001"] + [f"car-{n:03d}" for n in range(4, 40, 4)]
    scanned = dynamodb.scan(TableName="Cars", FilterExpression="battery > :b", ExpressionAttributeValues={":b": {"N": "80"}})
    assert sorted(i["car_id"]["S"] for i in scanned["Items"]) == [f"car-{n:03d}" for n in range(31, 40)]
    assert dynamodb.describe_table(TableName="Cars")["Table"]["ItemCount"] == 40

    with pytest.raises(ClientError):  # the second condition fails: the first write is rolled back
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "Cars", "Item": car(2, "RETIRED")}},
            {"Delete": {"TableName": "Cars", "Key": {"car_id": {"S": "car-003"}},
                        "ConditionExpression": "attribute_not_exists(car_id)"}}])
    dynamodb.transact_write_items(TransactItems=[{"Delete": {"TableName": "Cars", "Key": {"car_id": {"S": "car-003"}}}}])
    got = dynamodb.batch_get_item(RequestItems={"Cars": {"Keys": [{"car_id": {"S": f"car-{n:03d}"}} for n in (2, 3)]}})
    assert got["Responses"]["Cars"] == [car(2)]
    assert dynamodb.describe_table(TableName="Cars")["Table"]["ItemCount"] == 39


def test_a_table_with_a_sort_key_keeps_each_partitions_items(dynamodb):
    for n in range(30):
        dynamodb.put_item(TableName="History", Item={"car_id": {"S": f"car-{n % 3}"}, "version": {"N": str(n)},
                                                     "note": {"S": f"change {n}"}})
    dynamodb.update_item(TableName="History", Key={"car_id": {"S": "car-1"}, "version": {"N": "1"}},
                         UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "edited"}})
    dynamodb.delete_item(TableName="History", Key={"car_id": {"S": "car-1"}, "version": {"N": "4"}})
    answer = dynamodb.query(TableName="History", KeyConditionExpression="car_id = :c AND version > :v",
                            ExpressionAttributeValues={":c": {"S": "car-1"}, ":v": {"N": "0"}}, ScanIndexForward=False)
    assert [(i["version"]["N"], i["note"]["S"]) for i in answer["Items"]] == (
        [(str(n), f"change {n}") for n in range(28, 4, -3)] + [("1", "edited")])
    assert "Item" not in dynamodb.get_item(TableName="History", Key={"car_id": {"S": "car-9"}, "version": {"N": "1"}})
    assert dynamodb.describe_table(TableName="History")["Table"]["ItemCount"] == 29
    assert dynamodb.scan(TableName="History", Select="COUNT")["Count"] == 29


def test_a_large_table_holds_few_of_motos_item_objects(dynamodb):
    from moto.dynamodb.models.dynamo_type import Item

    for n in range(300):
        dynamodb.put_item(TableName="Cars", Item=car(n))
    gc.collect()
    assert sum(isinstance(o, Item) for o in gc.get_objects()) <= 2 * 3 + 2  # each table's held objects
    assert len(dynamodb.scan(TableName="Cars")["Items"]) == 300


def test_cold_items_are_deflated_against_their_tables_dictionary(dynamodb):
    """A table's items share their names, type tags and many values: held cold, each keeps well
    under its marshalled size, and reads back whole."""
    from moto.dynamodb.models import dynamodb_backends

    from workflows.local.local_aws import ACCOUNT_ID

    for n in range(100):
        dynamodb.put_item(TableName="Cars", Item=car(n))
    held = dynamodb_backends[ACCOUNT_ID]["us-east-1"].tables["Cars"].items
    cold = {key: value for key, value in held.held.items() if isinstance(value, bytes)}
    assert len(cold) >= 90
    plain = sum(len(compact_items._marshalled(held.readable(value, key, None))) for key, value in cold.items())
    assert sum(map(len, cold.values())) < 0.6 * plain
    assert dynamodb.get_item(TableName="Cars", Key={"car_id": {"S": "car-042"}})["Item"] == car(42)
