"""Every registration rule, good and bad; the message names the field at fault."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fleet_domain.models.errors import CarValidationError, FleetError
from fleet_domain.rules.registration import car_id_for, validate_registration

VIN = "1HGCM82633A004352"
GOOD = {"vin": VIN, "model": "Robotaxi S", "year": 2024, "seats": 4}
NEXT_YEAR = datetime.now(UTC).year + 1


def rejected(request: dict) -> CarValidationError:
    with pytest.raises(CarValidationError) as info:
        validate_registration(request)
    return info.value


def test_a_minimal_request_gets_the_defaults():
    car = validate_registration(GOOD)
    assert car.model_dump(mode="json") == {
        "car_id": "car-1HGCM82633A004352", "vin": VIN, "model": "Robotaxi S", "year": 2024, "seats": 4,
        "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 100.0, "odometer_km": 0, "cell": "u33dc0", "area": "u33dc",
    }


def test_optional_fields_are_kept_and_the_correlation_id_is_not_part_of_the_car():
    car = validate_registration({**GOOD, "location": {"lat": -33.9, "lon": 151.2}, "battery_pct": 42.5,
                                 "odometer_km": 1200, "correlation_id": "req-1"})
    out = car.model_dump(mode="json")
    assert (out["location"], out["battery_pct"], out["odometer_km"]) == ({"lat": -33.9, "lon": 151.2}, 42.5, 1200)
    assert "correlation_id" not in out


def test_car_id_derives_from_the_vin():
    assert car_id_for("1hgcm82633a004352") == "car-1HGCM82633A004352"
    assert validate_registration(GOOD).car_id == validate_registration({**GOOD, "model": "Other"}).car_id


def test_lowercase_vin_is_normalised_to_upper_case():
    car = validate_registration({**GOOD, "vin": VIN.lower()})
    assert (car.vin, car.car_id) == (VIN, "car-" + VIN)


@pytest.mark.parametrize("vin", [
    VIN[:-1],                 # 16 characters
    VIN + "1",                # 18 characters
    VIN[:-1] + "I",
    VIN[:-1] + "O",
    VIN[:-1] + "Q",
    VIN[:-1] + "q",           # lower-case q is still Q
    VIN[:-1] + "-",
    "",
    12345678901234567,        # not a string
])
def test_bad_vin_is_rejected_naming_the_vin(vin):
    error = rejected({**GOOD, "vin": vin})
    assert error.field == "vin"
    assert str(error) == "vin: must be 17 characters of the VIN alphabet (digits and A-Z except I, O, Q)"


def test_every_letter_but_i_o_q_is_in_the_vin_alphabet():
    for letter in "ABCDEFGHJKLMNPRSTUVWXYZ":
        assert validate_registration({**GOOD, "vin": letter * 17}).vin == letter * 17


@pytest.mark.parametrize("year", [2010, 2024, NEXT_YEAR])
def test_year_in_range_is_accepted(year):
    assert validate_registration({**GOOD, "year": year}).year == year


@pytest.mark.parametrize("year", [2009, 1900, NEXT_YEAR + 1, "2024", 2024.5, True])
def test_year_out_of_range_or_not_an_integer_is_rejected(year):
    error = rejected({**GOOD, "year": year})
    assert str(error) == f"year: must be between 2010 and {NEXT_YEAR}"
    assert error.field == "year"


@pytest.mark.parametrize("model, expected", [("  Robotaxi S  ", "Robotaxi S"), ("X", "X"), ("M" * 64, "M" * 64)])
def test_model_is_stripped(model, expected):
    assert validate_registration({**GOOD, "model": model}).model == expected


@pytest.mark.parametrize("model", ["", "   ", "M" * 65, "Robo\ntaxi", "Robo\x00taxi", 42, None])
def test_bad_model_is_rejected(model):
    error = rejected({**GOOD, "model": model})
    assert str(error) == "model: must be 1 to 64 printable characters"


@pytest.mark.parametrize("seats", [1, 4, 9])
def test_seats_in_range_are_accepted(seats):
    assert validate_registration({**GOOD, "seats": seats}).seats == seats


@pytest.mark.parametrize("seats", [0, 10, 40, -1, 4.5, "4", True, False])
def test_bad_seats_are_rejected_and_bool_is_not_an_int(seats):
    error = rejected({**GOOD, "seats": seats})
    assert str(error) == "seats: must be a whole number from 1 to 9"


@pytest.mark.parametrize("missing", ["vin", "model", "year", "seats"])
def test_a_missing_required_field_is_named(missing):
    error = rejected({k: v for k, v in GOOD.items() if k != missing})
    assert str(error) == f"{missing}: is required"
    assert error.field == missing


def test_an_unknown_field_is_rejected_by_name():
    error = rejected({**GOOD, "colour": "red"})
    assert str(error) == "colour: is not a field of a car registration"
    assert error.field == "colour"


@pytest.mark.parametrize("location, field", [
    ({"lat": 90.5, "lon": 0}, "location.lat"),
    ({"lat": -91, "lon": 0}, "location.lat"),
    ({"lat": 0, "lon": 180.1}, "location.lon"),
    ({"lat": 0, "lon": "east"}, "location.lon"),
    ({"lat": 0}, "location.lon"),
    ({"lat": 0, "lon": 0, "alt": 30}, "location.alt"),
    ("Berlin", "location"),
])
def test_bad_location_names_the_nested_field(location, field):
    assert rejected({**GOOD, "location": location}).field == field


@pytest.mark.parametrize("change, field", [
    ({"battery_pct": -1}, "battery_pct"),
    ({"battery_pct": 100.5}, "battery_pct"),
    ({"battery_pct": True}, "battery_pct"),
    ({"odometer_km": -1}, "odometer_km"),
    ({"odometer_km": 10.5}, "odometer_km"),
    ({"correlation_id": 7}, "correlation_id"),
])
def test_bad_optional_fields_are_named(change, field):
    error = rejected({**GOOD, **change})
    assert error.field == field and str(error).startswith(f"{field}: ")


def test_the_first_field_at_fault_is_named():
    assert rejected({**GOOD, "vin": "short", "year": 1900, "seats": 0}).field == "vin"
    assert rejected({**GOOD, "year": 1900, "seats": 0}).field == "year"


@pytest.mark.parametrize("request_", [[], "car", None, 42])
def test_a_request_that_is_not_an_object_is_rejected(request_):
    assert str(rejected(request_)) == "request: must be a JSON object"


def test_validation_error_is_a_value_error_and_a_fleet_error_with_a_stable_name():
    error = rejected({**GOOD, "seats": 0})
    assert isinstance(error, ValueError) and isinstance(error, FleetError)
    assert type(error).__name__ == "CarValidationError"
    assert error.__cause__ is None  # the pydantic details stay out of the Lambda error payload


def test_integral_floats_are_integers_as_in_json_schema():
    from fleet_domain.rules.registration import validate_registration

    car = validate_registration({"vin": "1HGCM82633A004352", "model": "M", "year": 2024.0, "seats": 4.0})
    assert (car.year, car.seats) == (2024, 4) and type(car.year) is int


def test_numbers_are_kept_inside_what_dynamodb_stores():
    """Found by schemathesis: a battery of 1.5e-275 % reached DynamoDB, which refuses magnitudes
    under 1e-130. Positions keep micro-degrees, the battery two decimals."""
    from fleet_domain.rules.registration import validate_registration

    car = validate_registration({"vin": "1HGCM82633A004352", "model": "M", "year": 2024, "seats": 4,
                                 "battery_pct": 1.5e-275, "location": {"lat": 52.123456789, "lon": 1e-200}})
    assert car.battery_pct == 0.0
    assert (car.location.lat, car.location.lon) == (52.123457, 0.0)
