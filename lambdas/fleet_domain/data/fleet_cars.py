"""The Cars table as the dispatch and maintenance workflows read it (FleetCar: the car plus the fields dispatch
and maintenance keep on it). Writes to a car happen in the ride and job repositories, in the
same transaction as the ride or job they belong with."""

from __future__ import annotations

from typing import Any

from fleet_domain.data.base import Store, plain
from fleet_domain.models.car import CarStatus, FleetCar


class FleetCarRepository(Store):
    STATUS_INDEX = "status-index"

    def __init__(self, client: Any = None, cars_table: str | None = None):
        super().__init__(client, cars=cars_table)

    def get(self, car_id: str) -> FleetCar | None:
        item = self.read("cars", {"car_id": car_id})
        return FleetCar.model_validate(item) if item else None

    def with_status(self, status: CarStatus | str) -> list[FleetCar]:
        """Cars in one status, by car_id: a Query on the status index, never a Scan."""
        items = self.query(
            TableName=self.table("cars"), IndexName=self.STATUS_INDEX,
            KeyConditionExpression="#status = :status", ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": CarStatus(status).value}},
        )
        return [FleetCar.model_validate(item) for item in items]

    def available(self) -> list[FleetCar]:
        return self.with_status(CarStatus.AVAILABLE)

    def all(self) -> list[FleetCar]:
        """Every car (a Scan: for operators' listings, never on a workflow's path)."""
        cars = []
        for page in self.client.get_paginator("scan").paginate(TableName=self.table("cars")):
            cars += [FleetCar.model_validate(plain(item)) for item in page["Items"]]
        return sorted(cars, key=lambda c: c.car_id)
