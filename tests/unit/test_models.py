from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from fleet_domain.models.car import Car, CarEvent, CarStatus, CarStatusChanged, Location

STORED_CAR = {  # as boto3 deserialises a Cars item, including attributes the model does not name
    "car_id": "car-1HGCM82633A004352", "vin": "1HGCM82633A004352", "model": "Robotaxi S",
    "year": Decimal("2024"), "seats": Decimal("4"), "status": "AVAILABLE",
    "location": {"lat": Decimal("52.52"), "lon": Decimal("13.405")},
    "battery_pct": Decimal("88"), "odometer_km": Decimal("0"), "km_since_service": Decimal("0"),
    "version": Decimal("2"), "created_at": "2026-11-24T18:00:00.000Z", "updated_at": "2026-11-24T18:00:01.000Z",
    "registered_by": "arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:x",
}


def test_a_stored_car_comes_back_with_plain_numbers():
    car = Car.model_validate(STORED_CAR)
    assert car.status is CarStatus.AVAILABLE
    assert (car.year, car.seats, car.version, car.odometer_km) == (2024, 4, 2, 0)
    assert all(type(v) is int for v in (car.year, car.seats, car.version, car.odometer_km))
    assert type(car.battery_pct) is float and car.location == Location(lat=52.52, lon=13.405)
    assert car.model_dump(mode="json")["location"] == {"lat": 52.52, "lon": 13.405}


def test_a_car_with_an_unknown_status_is_rejected():
    with pytest.raises(ValidationError):
        Car.model_validate({**STORED_CAR, "status": "FLYING"})


EVENT = {"car_id": "car-1", "status": "AVAILABLE", "previous_status": "REGISTERING", "version": 2,
         "at": "2026-11-24T18:00:01.234Z", "execution_arn": "arn:x", "reason": "registered"}


def test_car_event_round_trips_through_json():
    event = CarEvent.model_validate(EVENT)
    assert event.status is CarStatus.AVAILABLE and event.previous_status is CarStatus.REGISTERING
    assert event.model_dump(mode="json") == EVENT


def test_car_event_optional_fields_default_to_none():
    event = CarEvent.model_validate({"car_id": "car-1", "status": "REGISTERING", "version": Decimal("1"),
                                     "at": "2026-11-24T18:00:00Z"})
    assert (event.previous_status, event.execution_arn, event.reason, event.version) == (None, None, None, 1)


@pytest.mark.parametrize("change", [{"at": "yesterday"}, {"version": 0}, {"status": "FLYING"}, {"car_id": None}])
def test_malformed_car_event_is_rejected(change):
    with pytest.raises(ValidationError):
        CarEvent.model_validate({**EVENT, **change})


def test_the_eventbridge_envelope_carries_a_typed_detail():
    change = CarStatusChanged.model_validate({"version": "0", "id": "e-1", "detail-type": "CarStatusChanged",
                                              "source": "fleet.cars", "time": 1764007200.0, "detail": EVENT})
    assert change.detail_type == "CarStatusChanged" and change.id == "e-1"
    assert change.detail == CarEvent.model_validate(EVENT)
    with pytest.raises(ValidationError):
        CarStatusChanged.model_validate({"detail": EVENT})
