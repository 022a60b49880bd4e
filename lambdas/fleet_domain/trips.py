"""The dispatch workflow's use cases, one per Lambda: find candidates, start, complete and fail a
trip. Each takes its typed input, applies the rules (dispatch.py), writes through the
repositories and publishes the car's status changes. Every one is safe to run twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from fleet_domain import car_events
from fleet_domain.car_events import Publish, car_event
from fleet_domain.dispatch import (
    Candidate,
    CarBeforeTrip,
    MaintenanceDue,
    RideRequest,
    Route,
    TripReport,
    choose_candidates,
    finish_trip,
    maintenance_due,
    validate_ride,
)
from fleet_domain.fleet_cars import FleetCarRepository
from fleet_domain.lifecycle_errors import TripReportError
from fleet_domain.models import (
    DomainModel,
    ErrorName,
    ExecutionArn,
    Key,
    Location,
    StateName,
    TaskToken,
    Timestamp,
    Version,
)
from fleet_domain.ride_repository import RideRepository

# --- FindCandidates ------------------------------------------------------------------------------


class Candidates(DomainModel):
    ride: RideRequest
    candidates: list[Candidate]
    count: int


def find_candidates(event: Any, cars: FleetCarRepository) -> Candidates:
    ride = validate_ride(event)
    found = choose_candidates(ride, cars.available())
    return Candidates(ride=ride, candidates=found, count=len(found))


# --- StartTrip -----------------------------------------------------------------------------------


class TripStart(DomainModel):
    ride_id: Key
    car_id: Key
    version: Version  # the car's RESERVED version
    route: Route
    task_token: TaskToken
    at: Timestamp
    execution_arn: ExecutionArn | None = None


class TripStarted(DomainModel):
    ride_id: str
    car_id: str
    version: int  # the car's ON_TRIP version


def start_trip(request: TripStart, rides: RideRepository, publish: Publish = car_events.publish) -> TripStarted:
    change = rides.start_trip(request.ride_id, request.car_id, request.version, request.route, request.task_token,
                              request.at)
    publish([car_event(change, request.at, request.execution_arn, f"on a trip for ride {request.ride_id}")])
    return TripStarted(ride_id=request.ride_id, car_id=request.car_id, version=change.version)


# --- CompleteTrip --------------------------------------------------------------------------------


class TripCompletion(DomainModel):
    ride_id: Key
    car_id: Key
    version: Version  # the car's ON_TRIP version
    before: CarBeforeTrip
    route: Route
    dropoff: Location
    report: Any = None  # what the car sent back through the task token
    at: Timestamp
    execution_arn: ExecutionArn | None = None


class CarAfterCompletion(DomainModel):
    car_id: str
    status: str
    version: int
    odometer_km: int
    battery_pct: float
    km_since_service: int


class TripCompleted(DomainModel):
    car: CarAfterCompletion
    maintenance: MaintenanceDue


def complete_trip(request: TripCompletion, rides: RideRepository,
                  publish: Publish = car_events.publish) -> TripCompleted:
    try:
        report = TripReport.model_validate(request.report or {})
    except ValidationError as exc:
        raise TripReportError(f"the trip report is not valid: {exc.errors()[0]['msg']} "
                              f"({'.'.join(map(str, exc.errors()[0]['loc']))})") from None
    after = finish_trip(request.before, request.route, report)
    change, after = rides.complete_trip(request.ride_id, request.car_id, request.version, after, request.dropoff,
                                        request.at)
    publish([car_event(change, request.at, request.execution_arn, f"trip of ride {request.ride_id} completed")])
    return TripCompleted(
        car=CarAfterCompletion(car_id=request.car_id, status=change.status, version=change.version,
                               odometer_km=after.odometer_km, battery_pct=after.battery_pct,
                               km_since_service=after.km_since_service),
        maintenance=maintenance_due(after.battery_pct, after.km_since_service),
    )


# --- MarkRideFailed ------------------------------------------------------------------------------


class HeldCandidate(DomainModel):
    car_id: Key
    version: Version  # the version the car was AVAILABLE at when the ride tried to reserve it


class RideFailure(DomainModel):
    ride_id: Key
    candidate: HeldCandidate | None = None
    failed_state: StateName
    error: ErrorName
    at: Timestamp
    execution_arn: ExecutionArn | None = None


class RideFailed(DomainModel):
    ride_id: str
    car_id: str | None = None
    car_status: str | None = None


def mark_ride_failed(request: RideFailure, rides: RideRepository, publish: Publish = car_events.publish) -> RideFailed:
    reason = f"{request.failed_state}: {request.error}"
    candidate = request.candidate
    change = rides.fail_ride(request.ride_id, candidate.car_id if candidate else None,
                             candidate.version if candidate else None, reason, request.at)
    if change is None:
        return RideFailed(ride_id=request.ride_id)
    what = "taken out of service" if change.status == "OUT_OF_SERVICE" else "reservation released"
    publish([car_event(change, request.at, request.execution_arn, f"{what}: ride {request.ride_id} failed ({reason})")])
    return RideFailed(ride_id=request.ride_id, car_id=change.car_id, car_status=change.status)
