"""The Cars table: one item per car, keyed by car_id, with a status index.

The one place in Python that writes a car's status: `status_change` builds the conditional update
of a legal transition (rules/transitions.py), conditional on the status and version it leaves and
on who holds the car; the ride and job layers put it in the transaction of the ride or job it
belongs with. (The ASL's direct writes are checked against the same table by
tests/unit/test_status_writes.py.)
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from typing import Any

from fleet_domain.data.base import Repository, plain, values
from fleet_domain.models.car import Car, CarChange, CarStatus
from fleet_domain.rules.transitions import HOLDER, is_legal


class CarRepository(Repository):
    STATUS_INDEX = "status-index"

    def __init__(self, client: Any = None, cars_table: str | None = None):
        super().__init__(client, cars=cars_table)

    # --- reads ---------------------------------------------------------------------------

    def get(self, car_id: str) -> Car | None:
        found = self.read("cars", {"car_id": car_id})
        return Car.model_validate(found) if found else None

    def list_by_status(self, status: CarStatus | str) -> list[Car]:
        """Cars in one status, ordered by car_id: a Query on the status index, never a Scan.
        The index is eventually consistent, as every GSI is."""
        items = self.query("cars", IndexName=self.STATUS_INDEX, KeyConditionExpression="#status = :status",
                           ExpressionAttributeNames={"#status": "status"},
                           ExpressionAttributeValues={":status": {"S": CarStatus(status).value}})
        return [Car.model_validate(found) for found in items]

    def page_by_status(self, status: CarStatus | str, after: str | None = None, limit: int = 50) -> list[Car]:
        """Up to `limit` cars in one status whose car_id sorts after `after`, ordered by car_id (a
        page of list_by_status: one Query on the status index, for the API's paginated listing)."""
        condition, values_ = "#status = :status", {":status": {"S": CarStatus(status).value}}
        if after is not None:
            condition, values_[":after"] = condition + " AND car_id > :after", {"S": after}
        items = self.query("cars", IndexName=self.STATUS_INDEX, KeyConditionExpression=condition, Limit=limit,
                           ExpressionAttributeNames={"#status": "status"}, ExpressionAttributeValues=values_)
        return [Car.model_validate(found) for found in islice(items, limit)]

    CELL_INDEX = "cell-index"
    AREA_INDEX = "area-index"

    def available_in(self, cell: str, area: bool = False) -> tuple[list[Car], int]:
        """The AVAILABLE cars in a geohash cell (rules/geo.py; `area`: a coarse one), and how many
        items the Query read (every car of the cell, whatever its status: what DynamoDB bills)."""
        found, read = [], 0
        key = "area" if area else "cell"
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table("cars"), IndexName=self.AREA_INDEX if area else self.CELL_INDEX,
            KeyConditionExpression=f"{key} = :cell",
            FilterExpression="#status = :available", ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(cell=cell, available=CarStatus.AVAILABLE.value))
        for page in pages:
            read += page.get("ScannedCount", 0)
            found += [Car.model_validate(plain(i)) for i in page["Items"]]
        return found, read

    def reserved_for(self, ride_id: str) -> Car | None:
        """The car RESERVED for a ride, if one is (a Query of the reserved cars, however many the
        fleet has: only as many as rides being dispatched)."""
        items = self.query("cars", IndexName=self.STATUS_INDEX, KeyConditionExpression="#status = :reserved",
                           FilterExpression="ride_id = :ride", ExpressionAttributeNames={"#status": "status"},
                           ExpressionAttributeValues=values(reserved=CarStatus.RESERVED.value, ride=ride_id))
        for found in items:
            return Car.model_validate(found)
        return None

    def available(self) -> list[Car]:
        return self.list_by_status(CarStatus.AVAILABLE)

    def all(self) -> list[Car]:
        """Every car (a Scan: for operators' listings, never on a workflow's path)."""
        return sorted((Car.model_validate(found) for found in self.scan("cars")), key=lambda c: c.car_id)

    # --- the status write ----------------------------------------------------------------

    def status_change(self, car_id: str, held: CarStatus, to: CarStatus, version: int, at: str,
                      holder: str | None = None, fields: Mapping[str, Any] | None = None,
                      written_by: str | None = None) -> tuple[dict[str, Any], CarChange]:
        """The Update (for TransactWriteItems) that moves the car `held` -> `to`, conditional on
        `held` at `version` and, where a ride or job holds the car in `held`, on `holder` being
        it; `to` taking the car sets the holder, leaving it releases the car. With the change
        it makes (what gets published as CarStatusChanged). `written_by`: also conditional on the
        register execution that wrote the car REGISTERING being this one."""
        if not is_legal(held, to):
            raise ValueError(f"{held.value} -> {to.value} is not a legal car status change")
        held_by, taken_by = HOLDER.get(held), HOLDER.get(to)
        condition = "#status = :held AND #version = :version"
        sets = ["#status = :to", "#version = #version + :one", "updated_at = :at"]
        removes = []
        if held_by:
            condition += f" AND {held_by} = :holder"
        if written_by is not None:
            condition += " AND registered_by = :written_by"
        if taken_by and taken_by != held_by:
            sets.append(f"{taken_by} = :holder")
        if held_by and taken_by != held_by:
            sets.append(f"last_{held_by} = :holder")
            removes.append(held_by)
        extra = dict(fields or {})
        sets += [f"#set_{k} = :set_{k}" for k in extra]
        update = {
            "TableName": self.table("cars"), "Key": {"car_id": {"S": car_id}},
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status", "#version": "version", **{f"#set_{k}": k for k in extra}},
            "ExpressionAttributeValues": {
                **values(to=to.value, one=1, at=at, held=held.value, version=version),
                **(values(holder=holder) if holder is not None and (held_by or taken_by) else {}),
                **values(**{f"set_{k}": v for k, v in extra.items()}),
                **(values(written_by=written_by) if written_by is not None else {}),
            },
        }
        return {"Update": update}, CarChange(car_id, held.value, to.value, version + 1)


def registration_release(cars: CarRepository, car: Car, execution_arn: str, at: str) -> CarChange | None:
    """A car this register execution left REGISTERING: REGISTRATION_FAILED, to be registered again.
    None when the car is not REGISTERING for this execution (any more)."""
    if car.status is not CarStatus.REGISTERING or car.registered_by != execution_arn:
        return None
    update, change = cars.status_change(car.car_id, CarStatus.REGISTERING, CarStatus.REGISTRATION_FAILED, car.version,
                                        at, written_by=execution_arn)
    return change if cars.update(**update["Update"]) else None


def as_found(car: Car | None) -> str:
    """A car as a conflict found it, for the error's message."""
    if car is None:
        return "missing"
    holder = f" (ride_id {car.ride_id})" if car.ride_id else f" (job_id {car.job_id})" if car.job_id else ""
    return f"{car.status.value} v{car.version}{holder}"
