"""The CarHistory table: each car's status changes, keyed by (car_id, version)."""

from __future__ import annotations

from typing import Any

from fleet_domain.data.base import Repository
from fleet_domain.models.car import CarEvent


class CarHistoryRepository(Repository):
    def __init__(self, client: Any = None, car_history_table: str | None = None):
        super().__init__(client, car_history=car_history_table)

    def record(self, event: CarEvent) -> bool:
        """Keep one status change. A version already recorded is left alone (an event delivered
        twice is a no-op): returns False then, True when this call wrote it."""
        return self.put("car_history", event.model_dump(mode="json"),
                        ConditionExpression="attribute_not_exists(#version)",
                        ExpressionAttributeNames={"#version": "version"})

    def history(self, car_id: str) -> list[CarEvent]:
        """The car's status changes, oldest first (by version)."""
        items = self.query("car_history", KeyConditionExpression="car_id = :car_id",
                           ExpressionAttributeValues={":car_id": {"S": car_id}}, ScanIndexForward=True,
                           ConsistentRead=True)
        return [CarEvent.model_validate(found) for found in items]
