"""The repositories against emulated DynamoDB (moto), with the tables built from the catalog."""

from __future__ import annotations

import pytest

from fleet_domain.data import base as repositories
from fleet_domain.data.car_history import CarHistoryRepository
from fleet_domain.data.cars import CarRepository
from fleet_domain.models.car import Car, CarEvent, CarStatus
from workflows.definitions import catalog

from .conftest import create_table


def car_item(car_id: str, status: str, version: int = 1) -> dict:
    """A Cars item as the register workflow's PersistCar state writes it."""
    return {
        "car_id": {"S": car_id}, "vin": {"S": car_id[4:]}, "model": {"S": "Robotaxi S"},
        "year": {"N": "2024"}, "seats": {"N": "4"}, "status": {"S": status},
        "location": {"M": {"lat": {"N": "52.52"}, "lon": {"N": "13.405"}}},
        "battery_pct": {"N": "88.5"}, "odometer_km": {"N": "1200"}, "km_since_service": {"N": "0"},
        "version": {"N": str(version)}, "created_at": {"S": "2026-11-24T18:00:00.000Z"},
        "updated_at": {"S": "2026-11-24T18:00:01.000Z"}, "registered_by": {"S": "arn:aws:states:x"},
    }


def event(version: int, status: str, previous: str | None = None, **extra) -> CarEvent:
    return CarEvent(car_id="car-A", status=status, previous_status=previous, version=version,
                    at=f"2026-11-24T18:00:{version:02d}.000Z", **extra)


@pytest.fixture
def calls():
    """The DynamoDB operations the repositories make, observed on the shared client."""
    seen: list[str] = []

    def record(event_name: str, **_kwargs) -> None:
        seen.append(event_name.split(".")[-1])

    events = repositories.dynamodb().meta.events
    events.register("before-call.dynamodb", record)
    yield seen
    events.unregister("before-call.dynamodb", record)


def test_get_returns_the_car_with_plain_numbers(dynamodb):
    dynamodb.put_item(TableName=catalog.table("Cars").table_name, Item=car_item("car-1HGCM82633A004352", "AVAILABLE", 2))
    car = CarRepository().get("car-1HGCM82633A004352")
    assert isinstance(car, Car)
    assert (car.status, car.version, car.year, car.battery_pct, car.location.lat) == (
        CarStatus.AVAILABLE, 2, 2024, 88.5, 52.52)
    assert type(car.version) is int and type(car.location.lat) is float


def test_get_of_an_unknown_car_is_none(dynamodb):
    assert CarRepository().get("car-NOPE") is None


def test_list_by_status_queries_the_status_index(dynamodb, calls):
    table = catalog.table("Cars").table_name
    for car_id, status in [("car-C", "AVAILABLE"), ("car-A", "AVAILABLE"), ("car-B", "ON_TRIP"), ("car-D", "RETIRED")]:
        dynamodb.put_item(TableName=table, Item=car_item(car_id, status))

    available = CarRepository().list_by_status(CarStatus.AVAILABLE)

    assert [c.car_id for c in available] == ["car-A", "car-C"]  # the index sorts by car_id
    assert all(c.status is CarStatus.AVAILABLE for c in available)
    assert [c.car_id for c in CarRepository().list_by_status("ON_TRIP")] == ["car-B"]
    assert CarRepository().list_by_status("RESERVED") == []
    assert calls == ["Query"] * 3  # never a Scan


def test_list_by_status_rejects_an_unknown_status(dynamodb):
    with pytest.raises(ValueError):
        CarRepository().list_by_status("FLYING")


def test_record_writes_the_event_with_a_numeric_version(dynamodb):
    assert CarHistoryRepository().record(event(2, "AVAILABLE", "REGISTERING", execution_arn="arn:x", reason="registered"))

    item = dynamodb.get_item(TableName=catalog.table("CarHistory").table_name,
                             Key={"car_id": {"S": "car-A"}, "version": {"N": "2"}})["Item"]
    assert item == {"car_id": {"S": "car-A"}, "version": {"N": "2"}, "status": {"S": "AVAILABLE"},
                    "previous_status": {"S": "REGISTERING"}, "at": {"S": "2026-11-24T18:00:02.000Z"},
                    "execution_arn": {"S": "arn:x"}, "reason": {"S": "registered"}}


def test_absent_optional_fields_are_not_stored(dynamodb):
    CarHistoryRepository().record(event(1, "REGISTERING"))
    [item] = dynamodb.scan(TableName=catalog.table("CarHistory").table_name)["Items"]
    assert set(item) == {"car_id", "version", "status", "at"}


def test_a_redelivered_event_is_a_no_op(dynamodb):
    history = CarHistoryRepository()
    first = event(1, "REGISTERING", reason="registration started")
    assert history.record(first) is True

    assert history.record(first) is False
    # Even a different body under a recorded version leaves the first record alone.
    assert history.record(event(1, "REGISTERING", reason="something else")) is False

    assert history.history("car-A") == [first]


def test_history_is_ordered_by_version_whatever_the_arrival_order(dynamodb):
    history = CarHistoryRepository()
    events = {v: event(v, s, p) for v, s, p in [(1, "REGISTERING", None), (2, "AVAILABLE", "REGISTERING"),
                                                 (3, "RESERVED", "AVAILABLE"), (10, "ON_TRIP", "RESERVED")]}
    for version in (3, 10, 1, 2):  # 10 after 3 and 2: numeric order, not string order
        assert history.record(events[version])
    history.record(CarEvent(car_id="car-B", status="REGISTERING", version=1, at="2026-11-24T18:00:00Z"))

    assert [e.version for e in history.history("car-A")] == [1, 2, 3, 10]
    assert history.history("car-A") == [events[v] for v in (1, 2, 3, 10)]
    assert [e.car_id for e in history.history("car-B")] == ["car-B"]
    assert history.history("car-NOPE") == []


def test_table_names_are_read_at_call_time(dynamodb, monkeypatch):
    create_table(dynamodb, catalog.table("CarHistory"), name="fleet-car-history-other")
    history = CarHistoryRepository()
    monkeypatch.setenv("CAR_HISTORY_TABLE", "fleet-car-history-other")

    history.record(event(1, "REGISTERING"))

    assert dynamodb.scan(TableName="fleet-car-history-other")["Count"] == 1
    assert dynamodb.scan(TableName=catalog.table("CarHistory").table_name)["Count"] == 0


def test_the_client_is_created_once_and_reused(dynamodb):
    assert repositories.dynamodb() is repositories.dynamodb()
