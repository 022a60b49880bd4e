"""EnterMaintenance is safe to retry: run twice with the same input, and again after its first
attempt committed late (after the retry had read the car), it answers as the first attempt did
and the car enters maintenance once. Against emulated DynamoDB (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from fleet_domain.data.cars import CarRepository
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.logic.maintenance import enter_maintenance
from fleet_domain.models.car import Car, CarStatus
from fleet_domain.models.errors import CarStateConflict
from fleet_domain.models.maintenance import MaintenanceEntry
from workflows.definitions import catalog

from .conftest import create_table
from .test_repositories import car_item

CAR = "car-1HGCM82633A004352"
ENTRY = MaintenanceEntry(request={"car_id": CAR, "reason": "scheduled service"}, job_id="maintenance-car-1-abc",
                         at="2026-12-02T16:00:00.000Z",
                         execution_arn="arn:aws:states:us-east-1:123456789012:execution:fleet-maintain-car:maintenance-car-1-abc")


class StaleFirstRead(CarRepository):
    """The retry's view: its first read of the car happened before the first attempt's commit landed."""

    def __init__(self, stale: Car, client: Any):
        super().__init__(client)
        self.stale: Car | None = stale

    def get(self, car_id: str) -> Car | None:
        if self.stale is not None:
            car, self.stale = self.stale, None
            return car
        return super().get(car_id)


@pytest.fixture
def repos(dynamodb):
    create_table(dynamodb, catalog.table("MaintenanceJobs"))
    dynamodb.put_item(TableName=catalog.table("Cars").table_name, Item=car_item(CAR, "AVAILABLE", 2))
    return CarRepository(dynamodb), MaintenanceJobRepository(dynamodb, jobs_table=catalog.table("MaintenanceJobs").table_name)


def test_run_twice_with_the_same_input_it_enters_once_and_answers_the_same(repos):
    cars, jobs = repos
    published: list[Any] = []
    first = enter_maintenance(ENTRY, cars, jobs, published.extend)
    second = enter_maintenance(ENTRY, cars, jobs, published.extend)

    assert first == second and first.entered and (first.car.status, first.car.version) == ("IN_MAINTENANCE", 3)
    car = cars.get(CAR)
    assert car is not None and (car.status, car.version, car.job_id) == (CarStatus.IN_MAINTENANCE, 3, ENTRY.job_id)
    assert [j.job_id for j in jobs.for_car(CAR)] == [ENTRY.job_id]
    assert [(e.version, e.status) for e in published] == [(3, "IN_MAINTENANCE")] * 2  # the same event, again


def test_a_retry_after_a_late_commit_answers_as_the_first_attempt(repos, dynamodb):
    cars, jobs = repos
    before = cars.get(CAR)
    assert before is not None
    first = enter_maintenance(ENTRY, cars, jobs, lambda events: None)  # committed, but its answer was lost

    published: list[Any] = []
    retry = enter_maintenance(ENTRY, StaleFirstRead(before, dynamodb), jobs, published.extend)

    assert retry == first and retry.entered
    car = cars.get(CAR)
    assert car is not None and (car.status, car.version, car.job_id) == (CarStatus.IN_MAINTENANCE, 3, ENTRY.job_id)
    assert [j.job_id for j in jobs.for_car(CAR)] == [ENTRY.job_id]
    assert [(e.version, e.status) for e in published] == [(3, "IN_MAINTENANCE")]


def test_a_job_that_exists_while_the_car_is_elsewhere_is_a_conflict(repos, dynamodb):
    cars, jobs = repos
    enter_maintenance(ENTRY, cars, jobs, lambda events: None)
    # The job was released since (its car AVAILABLE again, at a later version): no longer this step's to redo.
    dynamodb.put_item(TableName=catalog.table("Cars").table_name, Item=car_item(CAR, "AVAILABLE", 4))

    with pytest.raises(CarStateConflict, match=f"job {ENTRY.job_id} exists \\(OPEN\\), but car {CAR} is not in "
                                               "maintenance for it \\(it is AVAILABLE\\)"):
        enter_maintenance(ENTRY, cars, jobs, lambda events: None)
