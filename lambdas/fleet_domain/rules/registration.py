"""Registration rules: is this request a car we can register, and under which car_id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet_domain.models.car import MIN_YEAR, CarDetails, CarRegistration, max_year
from fleet_domain.models.errors import CarValidationError
from fleet_domain.rules.geo import area_of, cell_of
from fleet_domain.rules.requests import validated

# What each field must be, in the words the caller reads after "<field>: ".
_RULES: dict[str, Callable[[], str]] = {
    "request": lambda: "must be a JSON object",
    "vin": lambda: "must be 17 characters of the VIN alphabet (digits and A-Z except I, O, Q)",
    "model": lambda: "must be 1 to 64 printable characters",
    "year": lambda: f"must be between {MIN_YEAR} and {max_year()}",
    "seats": lambda: "must be a whole number from 1 to 9",
    "location": lambda: "must be an object {lat, lon}",
    "location.lat": lambda: "must be a number from -90 to 90",
    "location.lon": lambda: "must be a number from -180 to 180",
    "battery_pct": lambda: "must be a number from 0 to 100",
    "odometer_km": lambda: "must be a whole number of km, 0 or more",
    "correlation_id": lambda: "must be a string of at most 128 characters",
}


def car_id_for(vin: str) -> str:
    """A car's id derives from its VIN, so registering the same car twice collides."""
    return f"car-{vin.upper()}"


def _rule(field: str) -> str | None:
    rule = _RULES.get(field)
    return rule() if rule else None


def validate_registration(event: Any) -> CarDetails:
    """The car a register request describes, or CarValidationError naming the first field at fault."""
    request = validated(CarRegistration, event, CarValidationError, "car registration", _rule)
    return CarDetails(
        car_id=car_id_for(request.vin), cell=cell_of(request.location), area=area_of(request.location),
        **request.model_dump(include={"vin", "model", "year", "seats", "location", "battery_pct", "odometer_km"}),
    )
