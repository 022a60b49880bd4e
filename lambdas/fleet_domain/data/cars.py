"""The Cars and CarHistory tables as the API and the audit consumer read and write them.

Table names come from the function's environment (CARS_TABLE, CAR_HISTORY_TABLE), read at call
time. The DynamoDB client is the process's one (fleet_domain.platform.clients).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fleet_domain.data.base import dynamodb, utf8_checked
from fleet_domain.models.car import Car, CarEvent, CarStatus
from fleet_domain.models.errors import UnstorableItemError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Attributes that are None are left out: DynamoDB stores absence, not NULL."""
    try:
        return {k: _serializer.serialize(utf8_checked(v)) for k, v in values.items() if v is not None}
    except (TypeError, ArithmeticError, UnicodeError) as exc:  # NaN, a number out of range, a lone surrogate
        raise UnstorableItemError(f"DynamoDB cannot store this item: {exc}") from None


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _query(**kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in dynamodb().get_paginator("query").paginate(**kwargs):
        for item in page["Items"]:
            yield _from_item(item)


class CarRepository:
    """The Cars table: one item per car, keyed by car_id, with a status index."""

    STATUS_INDEX = "status-index"

    def __init__(self, table_name: str | None = None):
        self._table_name = table_name

    @property
    def table_name(self) -> str:
        return self._table_name or os.environ["CARS_TABLE"]

    def get(self, car_id: str) -> Car | None:
        resp = dynamodb().get_item(TableName=self.table_name, Key={"car_id": {"S": car_id}}, ConsistentRead=True)
        return Car.model_validate(_from_item(resp["Item"])) if "Item" in resp else None

    def list_by_status(self, status: CarStatus | str) -> list[Car]:
        """Cars in one status, ordered by car_id: a Query on the status index, never a Scan.
        The index is eventually consistent, as every GSI is."""
        items = _query(
            TableName=self.table_name,
            IndexName=self.STATUS_INDEX,
            KeyConditionExpression="#status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": CarStatus(status).value}},
        )
        return [Car.model_validate(item) for item in items]


class CarHistoryRepository:
    """The CarHistory table: each car's status changes, keyed by (car_id, version)."""

    def __init__(self, table_name: str | None = None):
        self._table_name = table_name

    @property
    def table_name(self) -> str:
        return self._table_name or os.environ["CAR_HISTORY_TABLE"]

    def record(self, event: CarEvent) -> bool:
        """Keep one status change. A version already recorded is left alone (an event delivered
        twice is a no-op): returns False then, True when this call wrote it."""
        item = _to_item(event.model_dump(mode="json"))
        try:
            dynamodb().put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#version)",
                ExpressionAttributeNames={"#version": "version"},
            )
        except dynamodb().exceptions.ConditionalCheckFailedException:
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationException":
                raise UnstorableItemError(f"DynamoDB refused the event: {exc.response['Error'].get('Message', '')[:300]}") from None
            raise
        return True

    def history(self, car_id: str) -> list[CarEvent]:
        """The car's status changes, oldest first (by version)."""
        items = _query(
            TableName=self.table_name,
            KeyConditionExpression="car_id = :car_id",
            ExpressionAttributeValues={":car_id": {"S": car_id}},
            ScanIndexForward=True,
            ConsistentRead=True,
        )
        return [CarEvent.model_validate(item) for item in items]
