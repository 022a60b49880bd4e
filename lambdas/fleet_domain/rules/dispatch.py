"""Dispatch rules: which cars may take a ride, the route, what a finished trip does to the car,
and when a car is due for maintenance. Pure functions; no AWS here (logic/dispatch.py has the use
cases, data/rides.py the data access).
"""

from __future__ import annotations

import math
from typing import Any

from fleet_domain.models.car import Car, CarReadings, Location
from fleet_domain.models.errors import RideValidationError, TripReportError
from fleet_domain.models.ride import (
    Candidate,
    CarAfterTrip,
    MaintenanceDue,
    RideRequest,
    Route,
    RouteRequest,
    TripReport,
)
from fleet_domain.rules.geo import distance_km
from fleet_domain.rules.requests import validated
from fleet_domain.rules.servicing import MAINTENANCE_BATTERY_PCT, SERVICE_INTERVAL_KM

#: FindCandidates returns at most this many cars: the bound of the state machine's reservation loop.
MAX_CANDIDATES = 5
#: A car keeps this much charge in reserve after any trip.
RESERVE_BATTERY_PCT = 15.0
#: Energy use, in % of a full battery per km (a 500 km range).
BATTERY_PCT_PER_KM = 0.2
#: City driving.
AVERAGE_SPEED_KMH = 30.0

_RIDE_RULES = {
    "ride_id": "must be 1 to 40 letters, digits, '-' or '_'",
    "passengers": "must be a whole number from 1 to 9",
    "pickup": "must be an object {lat, lon}",
    "dropoff": "must be an object {lat, lon}",
}


def _ride_rule(field: str) -> str | None:
    if field.endswith(".lat"):
        return "must be a number from -90 to 90"
    if field.endswith(".lon"):
        return "must be a number from -180 to 180"
    return _RIDE_RULES.get(field)


def validate_ride(event: Any) -> RideRequest:
    """The ride a dispatch request describes, or RideValidationError naming the first field at fault."""
    return validated(RideRequest, event, RideValidationError, "ride request", _ride_rule)


def battery_needed_pct(km: float) -> float:
    return RESERVE_BATTERY_PCT + km * BATTERY_PCT_PER_KM


def maintenance_due(battery_pct: float, km_since_service: int) -> MaintenanceDue:
    if battery_pct < MAINTENANCE_BATTERY_PCT:
        return MaintenanceDue(due=True, reason=f"battery at {battery_pct:g}% (under {MAINTENANCE_BATTERY_PCT:g}%)")
    if km_since_service >= SERVICE_INTERVAL_KM:
        return MaintenanceDue(due=True, reason=f"{km_since_service} km since the last service")
    return MaintenanceDue(due=False)


def choose_candidates(ride: RideRequest, cars: list[Car], limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """AVAILABLE cars that seat the passengers, are not due for maintenance and have the battery
    for the drive to the pickup and the trip, nearest to the pickup first (ties by car_id)."""
    trip_km = distance_km(ride.pickup, ride.dropoff)
    candidates = []
    for car in cars:
        to_pickup = distance_km(car.location, ride.pickup)
        if car.seats < ride.passengers or maintenance_due(car.battery_pct, car.km_since_service).due:
            continue
        if car.battery_pct < battery_needed_pct(to_pickup + trip_km):
            continue
        candidates.append(Candidate.of(car, distance_km=to_pickup))
    candidates.sort(key=lambda c: (c.distance_km, c.car_id))
    return candidates[:limit]


def plan_route(start: Location, pickup: Location, dropoff: Location) -> Route:
    pickup_km = distance_km(start, pickup)
    trip_km = distance_km(pickup, dropoff)
    total = round(pickup_km + trip_km, 3)
    return Route(pickup_km=pickup_km, trip_km=trip_km, distance_km=total,
                 eta_min=max(1, math.ceil(total / AVERAGE_SPEED_KMH * 60)))


def finish_trip(before: CarReadings, route: Route, report: TripReport) -> CarAfterTrip:
    """The car after the trip: the reported odometer and battery, or estimates from the route."""
    odometer = report.odometer_km if report.odometer_km is not None else before.odometer_km + math.ceil(route.distance_km)
    if odometer < before.odometer_km:
        raise TripReportError(f"odometer_km {odometer} is below the {before.odometer_km} km the car had before the trip")
    if report.battery_pct is not None:
        battery = report.battery_pct
    else:
        battery = max(0.0, round(before.battery_pct - route.distance_km * BATTERY_PCT_PER_KM, 1))
    driven = odometer - before.odometer_km
    return CarAfterTrip(odometer_km=odometer, battery_pct=battery, km_since_service=before.km_since_service + driven,
                        driven_km=driven)


def route_for(request: RouteRequest) -> Route:
    return plan_route(request.start, request.pickup, request.dropoff)
