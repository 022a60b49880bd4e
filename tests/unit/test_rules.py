"""The dispatch and maintenance rules (fleet_domain.rules: dispatch, maintenance, geo): pure
functions, no AWS."""

from __future__ import annotations

import pytest

from fleet_domain.models.car import Car, CarReadings, CarSnapshot, Location
from fleet_domain.models.errors import MaintenanceRequestError, RideValidationError, TripReportError
from fleet_domain.models.ride import Route, TripReport
from fleet_domain.rules.dispatch import (
    MAX_CANDIDATES,
    choose_candidates,
    finish_trip,
    maintenance_due,
    plan_route,
    validate_ride,
)
from fleet_domain.rules.geo import distance_km
from fleet_domain.rules.maintenance import (
    book_technician,
    diagnose,
    order_parts,
    road_test,
    run_check,
    validate_request,
)

PICKUP = {"lat": 52.52, "lon": 13.405}
RIDE = {"ride_id": "r-1", "pickup": PICKUP, "dropoff": {"lat": 52.50, "lon": 13.35}, "passengers": 2}


def car(n: int, km_from_pickup: float = 0.0, **overrides) -> Car:
    values = {"car_id": f"car-{n}", "vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
              "location": {"lat": PICKUP["lat"] + km_from_pickup / 111.2, "lon": PICKUP["lon"]},
              "battery_pct": 90.0, "odometer_km": 1000, "status": "AVAILABLE", "version": 2,
              "created_at": "2026-11-24T18:00:00Z", "updated_at": "2026-11-24T18:00:00Z", **overrides}
    return Car.model_validate(values)


def test_distance_between_two_berlin_landmarks():
    alexanderplatz, brandenburg_gate = Location(lat=52.5219, lon=13.4132), Location(lat=52.5163, lon=13.3777)
    assert distance_km(alexanderplatz, brandenburg_gate) == pytest.approx(2.5, abs=0.1)
    assert distance_km(alexanderplatz, alexanderplatz) == 0


def test_candidates_are_the_nearest_cars_that_can_take_the_ride():
    ride = validate_ride({**RIDE, "passengers": 3})
    cars = [car(1, 5), car(2, 1), car(3, 0.5, seats=2), car(4, 2, battery_pct=18), car(5, 3, km_since_service=10_000),
            car(6, 0.1, battery_pct=16)]
    assert [c.car_id for c in choose_candidates(ride, cars)] == ["car-2", "car-1"]
    # car-3: too few seats; car-4 and car-5: due for maintenance; car-6: not the battery for the trip


def test_candidates_are_bounded_and_carry_the_version_read():
    found = choose_candidates(validate_ride(RIDE), [car(n, n, version=n + 1) for n in range(1, 10)])
    assert len(found) == MAX_CANDIDATES
    assert [(c.car_id, c.version) for c in found] == [(f"car-{n}", n + 1) for n in range(1, 6)]


@pytest.mark.parametrize("change, message", [
    ({"ride_id": ""}, "ride_id: must be 1 to 40 letters"),
    ({"passengers": True}, "passengers: must be a whole number from 1 to 9"),
    ({"pickup": {"lat": 52}}, "pickup.lon: is required"),
    ({"dropoff": {"lat": 0, "lon": 200}}, "dropoff.lon: must be a number from -180 to 180"),
])
def test_an_invalid_ride_names_the_field(change, message):
    with pytest.raises(RideValidationError) as info:
        validate_ride({**RIDE, **change})
    assert str(info.value).startswith(message)


def test_route_and_eta():
    route = plan_route(Location(lat=52.53, lon=13.405), Location(**PICKUP), Location(lat=52.50, lon=13.35))
    assert route.distance_km == pytest.approx(route.pickup_km + route.trip_km)
    assert route.eta_min == pytest.approx(route.distance_km / 30 * 60, abs=1)


def test_a_finished_trip_takes_the_report_or_estimates_from_the_route():
    before = CarReadings(odometer_km=1000, battery_pct=80, km_since_service=500)
    route = Route(pickup_km=1, trip_km=9.2, distance_km=10.2, eta_min=21)
    estimated = finish_trip(before, route, TripReport())
    assert (estimated.odometer_km, estimated.battery_pct, estimated.km_since_service) == (1011, 78.0, 511)
    reported = finish_trip(before, route, TripReport(odometer_km=1015, battery_pct=70))
    assert (reported.odometer_km, reported.battery_pct, reported.driven_km) == (1015, 70, 15)
    with pytest.raises(TripReportError, match="below the 1000 km"):
        finish_trip(before, route, TripReport(odometer_km=999))


def test_maintenance_is_due_on_a_low_battery_or_after_the_service_interval():
    assert maintenance_due(50, 100).due is False
    assert maintenance_due(19.5, 100).reason == "battery at 19.5% (under 20%)"
    assert maintenance_due(50, 10_000).reason == "10000 km since the last service"


def test_a_maintenance_request_is_validated():
    assert validate_request({"car_id": "car-1", "reason": "x", "ride_id": "r-1",
                             "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:x"}).started_by == "arn:x"
    with pytest.raises(MaintenanceRequestError, match="^reason: must be 1 to 200 characters$"):
        validate_request({"car_id": "car-1", "reason": ""})


def test_diagnosis_checks_parts_and_technician():
    worn = CarSnapshot(car_id="car-1", status="IN_MAINTENANCE", version=3, odometer_km=75_000, battery_pct=15,
                       km_since_service=12_000)
    checks = diagnose(worn, "scheduled")
    assert checks == ["battery", "brakes", "tires", "sensors", "suspension"]
    results = {c: run_check(c, worn) for c in checks}
    assert {c: r.passed for c, r in results.items()} == {"battery": False, "brakes": False, "tires": True,
                                                         "sensors": True, "suspension": True}
    assert order_parts("job-1", checks) == order_parts("job-1", checks)  # one order per job, however often asked
    assert book_technician("job-1") == book_technician("job-1")
    with pytest.raises(ValueError, match="unknown check"):
        run_check("flux capacitor", worn)


def test_a_car_past_its_service_life_fails_the_road_test():
    assert road_test(CarSnapshot(car_id="c", status="IN_MAINTENANCE", version=3, odometer_km=10_000)).passed
    old = road_test(CarSnapshot(car_id="c", status="IN_MAINTENANCE", version=3, odometer_km=400_000))
    assert not old.passed and "service life" in old.findings[0]
