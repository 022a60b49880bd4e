"""Every write of a car's status, in the ASL and in Python, is a legal transition of the one car
status transition table (fleet_domain.rules.transitions).

Each Cars-table write is parsed, not trusted: the status it sets (`SET #status = :to`, or the
item's status in a PutItem) and the statuses its ConditionExpression allows it to leave
(`#status = :held`, `#status IN (...)`, or `attribute_not_exists(car_id)` for a new car). The ASL
files are read as they are deployed; the Python writes are captured as the data layer sends them
to DynamoDB (moto), for every path that changes a car's status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from fleet_domain.data.base import item
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.data.rides import RideRepository
from fleet_domain.models.car import CarStatus, Location
from fleet_domain.models.maintenance import JobStatus, MaintenanceJob
from fleet_domain.models.ride import CarAfterTrip, Route
from fleet_domain.rules.transitions import HOLDER, is_legal
from workflows.definitions import catalog

from .conftest import create_table

CARS = catalog.table("Cars").table_name
AT = "2026-11-24T18:00:00.000Z"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:fleet-dispatch-car:r-1"


def status_write(update: dict[str, Any]) -> tuple[frozenset[str | None], str, set[str]]:
    """(the statuses the write may leave, None for a new car; the status it sets; the attributes
    it SETs) of one Cars-table PutItem or UpdateItem, from its expressions."""
    names = update.get("ExpressionAttributeNames", {})
    values = update.get("ExpressionAttributeValues", {})

    def literal(placeholder: str) -> str:
        value = values[placeholder]
        assert "S" in value, f"{placeholder} must be a literal status, got {value}"
        return str(value["S"])

    def is_status(path: str) -> bool:
        return names.get(path, path) == "status"

    condition = update.get("ConditionExpression", "")
    if "Item" in update:  # PutItem: a new car
        assert "attribute_not_exists(car_id)" in condition, condition
        return frozenset({None}), str(update["Item"]["status"]["S"]), set(update["Item"])
    sets = re.split(r"\s+(?:REMOVE|ADD|DELETE)\s+", update["UpdateExpression"].split("SET", 1)[1])[0]
    assignments = dict(tuple(part.strip() for part in a.split("=", 1)) for a in sets.split(","))
    set_names = {names.get(k, k) for k in assignments}
    [to] = [literal(v) for k, v in assignments.items() if is_status(k)]
    held: set[str | None] = set()
    for path, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", condition):
        if is_status(path):
            held.add(literal(placeholder))
    for path, listed in re.findall(r"(#?\w+)\s+IN\s*\(([^)]*)\)", condition):
        if is_status(path):
            held |= {literal(p.strip()) for p in listed.split(",")}
    assert held, f"a status write without a status condition: {condition!r}"
    return frozenset(held), to, set_names


def check(where: str, update: dict[str, Any]) -> tuple[frozenset[str | None], str]:
    held, to, sets = status_write(update)
    for prev in held:
        assert is_legal(prev, to), f"{where}: {prev} -> {to} is not in the transition table"
        taker = HOLDER.get(CarStatus(to))
        if taker and taker != (HOLDER.get(CarStatus(prev)) if prev else None):
            assert taker in sets, f"{where}: {prev} -> {to} must set {taker}"
    return held, to


# --- the ASL ---------------------------------------------------------------------------------


def asl_cars_writes() -> Iterator[tuple[str, dict[str, Any]]]:
    def walk(asl_file: str, states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, state in states.items():
            arguments = state.get("Arguments") or state.get("Parameters") or {}
            if (state["Type"] == "Task" and ":::dynamodb:" in state["Resource"]
                    and arguments.get("TableName") == "${CarsTableName}"):
                yield f"{asl_file} {name}", arguments
            for branch in state.get("Branches", []):
                yield from walk(asl_file, branch["States"])
            if state["Type"] == "Map":
                yield from walk(asl_file, (state.get("ItemProcessor") or state["Iterator"])["States"])

    for sm in catalog.STATE_MACHINES:
        yield from walk(sm.asl_file, json.loads(sm.definition())["States"])


ASL_WRITES = list(asl_cars_writes())


def test_the_asl_writes_to_the_cars_table_are_found():
    assert {where.split()[-1] for where, _ in ASL_WRITES} >= {
        "PersistCar", "ReRegisterFailedCar", "RejectCar", "ActivateCar", "MarkRegistrationFailed", "ReserveCar"}


@pytest.mark.parametrize(("where", "arguments"), ASL_WRITES, ids=[w for w, _ in ASL_WRITES])
def test_every_asl_status_write_is_a_legal_transition(where, arguments):
    check(where, arguments)


# --- Python ----------------------------------------------------------------------------------


@pytest.fixture
def cars_writes(dynamodb) -> Iterator[list[dict[str, Any]]]:
    """Every Cars-table write the data layer sends (UpdateItem, or an item of TransactWriteItems)."""
    for logical_id in ("Rides", "MaintenanceJobs"):
        create_table(dynamodb, catalog.table(logical_id))
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        for entry in params.get("TransactItems", []):
            for kind in ("Update", "Put"):
                if entry.get(kind, {}).get("TableName") == CARS:
                    seen.append(entry[kind])
        if params.get("TableName") == CARS and "UpdateExpression" in params:
            seen.append(params)

    events = dynamodb.meta.events
    events.register("provide-client-params.dynamodb", record)
    yield seen
    events.unregister("provide-client-params.dynamodb", record)


def every_python_status_write(client: Any) -> None:
    """Each data-layer path that changes a car's status, once (their conditions need not hold:
    the request is what is checked)."""
    rides = RideRepository(client, rides_table=catalog.table("Rides").table_name, cars_table=CARS)
    jobs = MaintenanceJobRepository(client, jobs_table=catalog.table("MaintenanceJobs").table_name, cars_table=CARS)
    route = Route(pickup_km=1, trip_km=2, distance_km=3, eta_min=6)
    after = CarAfterTrip(odometer_km=10, battery_pct=80, km_since_service=10, driven_km=3)
    job = MaintenanceJob(job_id="j-1", car_id="car-1", reason="r", status=JobStatus.OPEN, opened_at=AT, updated_at=AT)
    # A failure reads the car first: one on its ride's trip, one only reserved for its ride.
    for car_id, status, ride_id in (("car-2", "ON_TRIP", "r-2"), ("car-3", "RESERVED", "r-3")):
        client.put_item(TableName=CARS, Item=item({
            "car_id": car_id, "vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
            "location": {"lat": 52.5, "lon": 13.4}, "battery_pct": 80, "odometer_km": 10, "status": status,
            "version": 3, "created_at": AT, "updated_at": AT, "ride_id": ride_id}))
    for attempt in (
        lambda: rides.start_trip("r-1", "car-1", 2, route, "token", AT, EXECUTION),
        lambda: rides.complete_trip("r-1", "car-1", 3, after, Location(lat=52.5, lon=13.4), AT, EXECUTION),
        lambda: rides.fail_ride("r-2", "car-2", "reason", AT, EXECUTION),
        lambda: rides.fail_ride("r-3", "car-3", "reason", AT, EXECUTION),
        lambda: jobs.open(job, 1),
        lambda: jobs.close("j-1", "car-1", 2, CarStatus.AVAILABLE, JobStatus.COMPLETED, AT),
        lambda: jobs.close("j-1", "car-1", 2, CarStatus.RETIRED, JobStatus.RETIRED, AT),
        lambda: jobs.fail("j-1", "car-1", 2, "reason", AT),
    ):
        try:
            attempt()
        except Exception:  # noqa: BLE001 - a refused condition is fine: the request was sent
            pass


def test_every_python_status_write_is_a_legal_transition(dynamodb, cars_writes):
    every_python_status_write(dynamodb)
    seen = {check(f"Python write {w['ConditionExpression']!r}", w) for w in cars_writes}
    transitions = {(prev, to) for held, to in seen for prev in held}
    assert transitions >= {
        ("RESERVED", "ON_TRIP"), ("ON_TRIP", "AVAILABLE"), ("ON_TRIP", "OUT_OF_SERVICE"), ("RESERVED", "AVAILABLE"),
        ("AVAILABLE", "IN_MAINTENANCE"), ("IN_MAINTENANCE", "AVAILABLE"), ("IN_MAINTENANCE", "RETIRED"),
        ("IN_MAINTENANCE", "OUT_OF_SERVICE"),
    }


def test_only_the_cars_data_layer_writes_the_cars_table():
    """The ride and job layers put the car's update in their transactions, built by CarRepository."""
    writers = sorted(p.relative_to(catalog.LAMBDAS_DIR).as_posix() for p in catalog.LAMBDAS_DIR.rglob("*.py")
                     if 'table("cars")' in p.read_text())
    assert writers == ["fleet_domain/data/cars.py"]


def test_an_illegal_status_change_is_refused_before_anything_is_sent(dynamodb, cars_writes):
    from fleet_domain.data.cars import CarRepository

    with pytest.raises(ValueError, match="not a legal car status change"):
        CarRepository(dynamodb, cars_table=CARS).status_change("car-1", CarStatus.RETIRED, CarStatus.AVAILABLE, 5, AT)
    assert cars_writes == []
