"""The dispatch workflow's use cases, one per Lambda: find candidates, start, complete and fail a
trip. Each takes its typed input, applies the rules (rules/dispatch.py), writes through the data
layer and publishes the car's status changes. Every one is safe to run twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from fleet_domain.data import car_events
from fleet_domain.data.car_events import Publish, car_event
from fleet_domain.data.cars import CarRepository
from fleet_domain.data.rides import RideRepository
from fleet_domain.models.car import Car, CarSnapshot
from fleet_domain.models.errors import TripReportError
from fleet_domain.models.ride import (
    Candidate,
    Candidates,
    RideFailed,
    RideFailure,
    TripCompleted,
    TripCompletion,
    TripReport,
    TripStart,
    TripStarted,
)
from fleet_domain.rules.dispatch import MAX_CANDIDATES, choose_candidates, finish_trip, maintenance_due, validate_ride
from fleet_domain.rules.geo import AREA_PRECISION, CELL_PRECISION, ring, ring_reach_km

# --- FindCandidates ------------------------------------------------------------------------------


# Where a dispatch looks: rings 0..2 of fine cells (about 3.6 km by 3 km around the pickup), then,
# where cars are sparse, rings 0..2 of coarse ones (about 25 km square): at most 50 Queries.
SEARCH = ((CELL_PRECISION, False, 2), (AREA_PRECISION, True, 2))


# A ride that lost its candidates to other rides looks again (the dispatch's LookAgain) with a
# longer list each time, so rides at a busy pickup spread over the cars there.
LOOK_AGAIN_CANDIDATES = 10


def find_candidates(event: Any, cars: CarRepository) -> Candidates:
    """The nearest suitable AVAILABLE cars: the pickup's cell, then ring after ring of cells around
    it, until the candidates found are nearer than anything a further ring could hold; where there
    are too few, the same with coarse cells. A look again ({ride, look: n}) wants up to 10 x n."""
    look = event.get("look") if isinstance(event, dict) and "ride" in event else None
    wanted = MAX_CANDIDATES if not isinstance(look, int) or look < 2 else LOOK_AGAIN_CANDIDATES * look
    ride = validate_ride(event["ride"] if look is not None else event)
    read = 0
    found: list[Candidate] = []
    for precision, area, rings in SEARCH:
        seen: list[Car] = []
        for k in range(rings + 1):
            for cell in ring(ride.pickup, k, precision):
                in_cell, items = cars.available_in(cell, area=area)
                seen += in_cell
                read += items
            found = choose_candidates(ride, seen, wanted)
            if len(found) >= wanted and found[-1].distance_km <= ring_reach_km(ride.pickup, k, precision):
                return Candidates(ride=ride, candidates=found, count=len(found), items_read=read)
    return Candidates(ride=ride, candidates=found, count=len(found), items_read=read)


# --- StartTrip -----------------------------------------------------------------------------------


def start_trip(request: TripStart, rides: RideRepository, publish: Publish = car_events.publish) -> TripStarted:
    change = rides.start_trip(request.ride_id, request.car_id, request.version, request.route, request.task_token,
                              request.at, request.execution_arn)
    publish([car_event(change, request.at, request.execution_arn, f"on a trip for ride {request.ride_id}")])
    return TripStarted(ride_id=request.ride_id, car_id=request.car_id, version=change.version)


# --- CompleteTrip --------------------------------------------------------------------------------


def complete_trip(request: TripCompletion, rides: RideRepository,
                  publish: Publish = car_events.publish) -> TripCompleted:
    given = request.report
    if isinstance(given, dict) and given.get("claimed") is True:
        # The wait ran out after the car's report was claimed on the ride (EndTripWait): it commits.
        ride = rides.get(request.ride_id)
        given = ride.trip_report if ride is not None else None
    try:
        report = TripReport.model_validate(given or {})
    except ValidationError as exc:
        raise TripReportError(f"the trip report is not valid: {exc.errors()[0]['msg']} "
                              f"({'.'.join(map(str, exc.errors()[0]['loc']))})") from None
    after = finish_trip(request.before, request.route, report)
    change, after = rides.complete_trip(request.ride_id, request.car_id, request.version, after, request.dropoff,
                                        request.at, request.execution_arn)
    publish([car_event(change, request.at, request.execution_arn, f"trip of ride {request.ride_id} completed")])
    return TripCompleted(
        car=CarSnapshot(car_id=request.car_id, status=change.status, version=change.version,
                        odometer_km=after.odometer_km, battery_pct=after.battery_pct,
                        km_since_service=after.km_since_service),
        maintenance=maintenance_due(after.battery_pct, after.km_since_service),
    )


# --- MarkRideFailed ------------------------------------------------------------------------------


def mark_ride_failed(request: RideFailure, rides: RideRepository, publish: Publish = car_events.publish) -> RideFailed:
    reason = f"{request.failed_state}: {request.error}"
    candidate = request.candidate
    change = rides.fail_ride(request.ride_id, candidate.car_id if candidate else None, reason, request.at,
                             request.execution_arn)
    if change is None:
        return RideFailed(ride_id=request.ride_id)
    what = "taken out of service" if change.status == "OUT_OF_SERVICE" else "reservation released"
    publish([car_event(change, request.at, request.execution_arn, f"{what}: ride {request.ride_id} failed ({reason})")])
    return RideFailed(ride_id=request.ride_id, car_id=change.car_id, car_status=change.status)
