"""The Rides table, and the car side of every change a trip makes: a car and its ride change
together, in one TransactWriteItems, each item conditional on the state it leaves (status,
version, who holds the car) and the ride on the execution that owns it (`dispatched_by`): the
car's holder is the ride, which a redrive of the ride (another execution) takes over, so only
the ride's owner tells a late step of an older execution from the current one. Nothing here reads
and then writes blindly: a read only ever follows a cancelled transaction, to tell "an earlier
attempt of this very step already did it" (answered idempotently) from "another execution owns
the ride" (RideOwnerConflict) and "someone else changed it" (CarStateConflict); or it precedes a
write conditional on what it read.

Ride items: ride_id, status (RideStatus), pickup, dropoff, passengers, requested_at, updated_at,
dispatched_by (the execution), car_id and route once the trip starts, task_token while the trip
runs, trip (the car after it) when COMPLETED, reason when REJECTED or FAILED, car_outcome when a
failure changed the car.
"""

from __future__ import annotations

from typing import Any

from fleet_domain.data.base import Cancelled, Repository, attribute, values
from fleet_domain.data.cars import CarRepository, as_found
from fleet_domain.models.car import Car, CarChange, CarStatus, Location
from fleet_domain.models.errors import CarStateConflict, RideOwnerConflict
from fleet_domain.models.ride import CarAfterTrip, Ride, RideStatus, Route
from fleet_domain.rules.geo import area_of, cell_of

#: What a failed ride does to the car it holds: off the trip it is out of service (it may carry
#: passengers somewhere), only reserved it is free again.
CAR_OF_FAILED_RIDE = {CarStatus.ON_TRIP: CarStatus.OUT_OF_SERVICE, CarStatus.RESERVED: CarStatus.AVAILABLE}
CAR_READS = 3  # a car that moved between MarkRideFailed's read and its write is read again


class RideRepository(Repository):
    def __init__(self, client: Any = None, rides_table: str | None = None, cars_table: str | None = None):
        super().__init__(client, rides=rides_table)
        self.cars = CarRepository(client, cars_table=cars_table)

    # --- reads ---------------------------------------------------------------------------

    def get(self, ride_id: str) -> Ride | None:
        found = self.read("rides", {"ride_id": ride_id})
        return Ride.model_validate(found) if found else None

    def all(self) -> list[Ride]:
        """Every ride (a Scan: for operators and tests, never on a workflow's path)."""
        return sorted((Ride.model_validate(found) for found in self.scan("rides")), key=lambda r: r.requested_at)

    # --- the trip ------------------------------------------------------------------------

    def start_trip(self, ride_id: str, car_id: str, version: int, route: Route, token: str, at: str,
                   execution: str) -> CarChange:
        """RESERVED (version, held by the ride) -> ON_TRIP, and the ride `execution` dispatches
        ON_TRIP with the car, the route and the task token. Run again after it took effect, it
        only stores the new token (a retried attempt has a new one)."""
        car_update, change = self.cars.status_change(car_id, CarStatus.RESERVED, CarStatus.ON_TRIP, version, at,
                                                     holder=ride_id)
        try:
            self.transact(
                car_update,
                {"Update": {
                    "TableName": self.table("rides"), "Key": {"ride_id": {"S": ride_id}},
                    "UpdateExpression": "SET #status = :on_trip, car_id = :car, #route = :route, task_token = :token, "
                                        "started_at = :at, updated_at = :at",
                    "ConditionExpression": "#status = :requested AND dispatched_by = :by",
                    "ExpressionAttributeNames": {"#status": "status", "#route": "route"},
                    "ExpressionAttributeValues": values(on_trip=RideStatus.ON_TRIP.value, car=car_id,
                                                        route=route.model_dump(), token=token, at=at,
                                                        requested=RideStatus.REQUESTED.value, by=execution),
                }},
            )
            return change
        except Cancelled:
            pass
        ride, car = _owned(self.get(ride_id), execution, f"start the trip of ride {ride_id}"), self.cars.get(car_id)
        if (ride and ride.status is RideStatus.ON_TRIP and ride.car_id == car_id and car and car.ride_id == ride_id
                and car.status is CarStatus.ON_TRIP and car.version == version + 1):
            self.update(
                TableName=self.table("rides"), Key={"ride_id": {"S": ride_id}},
                UpdateExpression="SET task_token = :token",
                ConditionExpression="#status = :on_trip AND car_id = :car AND dispatched_by = :by",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(token=token, on_trip=RideStatus.ON_TRIP.value, car=car_id,
                                                 by=execution),
            )
            return change
        raise CarStateConflict(
            f"cannot start the trip of ride {ride_id}: expected car {car_id} RESERVED for it at version {version} "
            f"and the ride REQUESTED; found the car {as_found(car)} and the ride {ride.status.value if ride else 'missing'}")

    def complete_trip(self, ride_id: str, car_id: str, version: int, after: CarAfterTrip, dropoff: Location,
                      at: str, execution: str) -> tuple[CarChange, CarAfterTrip]:
        """ON_TRIP (version, held by the ride) -> AVAILABLE at the dropoff with the odometer and
        battery after the trip, and the ride `execution` dispatches COMPLETED. Run again after it
        took effect, it answers with what the first run stored."""
        car_update, change = self.cars.status_change(
            car_id, CarStatus.ON_TRIP, CarStatus.AVAILABLE, version, at, holder=ride_id,
            fields={"odometer_km": after.odometer_km, "battery_pct": after.battery_pct,
                    "km_since_service": after.km_since_service, "location": dropoff.model_dump(),
                    "cell": cell_of(dropoff), "area": area_of(dropoff)})
        try:
            self.transact(
                car_update,
                {"Update": {
                    "TableName": self.table("rides"), "Key": {"ride_id": {"S": ride_id}},
                    "UpdateExpression": "SET #status = :completed, trip = :trip, completed_at = :at, updated_at = :at "
                                        "REMOVE task_token",
                    "ConditionExpression": "#status = :on_trip AND car_id = :car AND dispatched_by = :by",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values(completed=RideStatus.COMPLETED.value, trip=after.model_dump(),
                                                        at=at, on_trip=RideStatus.ON_TRIP.value, car=car_id,
                                                        by=execution),
                }},
            )
            return change, after
        except Cancelled:
            pass
        ride = _owned(self.get(ride_id), execution, f"complete the trip of ride {ride_id}")
        if ride and ride.status is RideStatus.COMPLETED and ride.car_id == car_id and ride.trip is not None:
            return change, ride.trip
        raise CarStateConflict(
            f"cannot complete the trip of ride {ride_id}: expected car {car_id} ON_TRIP for it at version {version}; "
            f"found the car {as_found(self.cars.get(car_id))} and the ride {ride.status.value if ride else 'missing'}")

    def fail_ride(self, ride_id: str, car_id: str | None, reason: str, at: str, execution: str) -> CarChange | None:
        """The ride `execution` dispatches FAILED and, if the ride holds the car `car_id` (read
        first; the write is conditional on what was read), the car with it: OUT_OF_SERVICE when it
        was on the trip, back to AVAILABLE when it was only reserved. A car the ride does not hold
        is left alone. Returns the car change (again on a repeated call, so it is published), or
        None. RideOwnerConflict when another execution dispatches the ride (a redrive: the car it
        holds for the ride is that execution's)."""
        for _ in range(CAR_READS):
            car = self.cars.get(car_id) if car_id is not None else None
            if car is None or car.ride_id != ride_id or car.status not in CAR_OF_FAILED_RIDE:
                break
            car_update, change = self.cars.status_change(car.car_id, car.status, CAR_OF_FAILED_RIDE[car.status],
                                                         car.version, at, holder=ride_id)
            try:
                self.transact(car_update, self._ride_failure(ride_id, reason, at, change, execution))
                return change
            except Cancelled as cancelled:
                if cancelled.failed(1):
                    break  # the ride is not this execution's, or no longer active: told below
                # the car moved since it was read: read it again
        else:
            raise CarStateConflict(f"car {car_id} kept changing while ride {ride_id} failed")
        if self.update(**self._ride_failure(ride_id, reason, at, None, execution)["Update"]):
            return None
        ride = _owned(self.get(ride_id), execution, f"fail ride {ride_id}")
        if ride and ride.status is RideStatus.FAILED and ride.car_outcome:
            return CarChange(**ride.car_outcome)  # an earlier attempt changed the car: publish it again
        return None

    def release(self, ride_id: str, car: Car | None, reason: str, at: str, execution: str) -> CarChange | None:
        """The ride FAILED (`reason`) for `execution`, which dispatched it and ended without its own
        clean-up, and the car it holds, as read (RESERVED or ON_TRIP for this ride), released:
        AVAILABLE. Returns the car change, or None when no car was released. CarStateConflict when
        the car moved since it was read (read it again); RideOwnerConflict when another execution
        dispatches the ride now."""
        if car is not None and car.ride_id == ride_id and car.status in (CarStatus.RESERVED, CarStatus.ON_TRIP):
            car_update, change = self.cars.status_change(car.car_id, car.status, CarStatus.AVAILABLE, car.version, at,
                                                         holder=ride_id)
            try:
                self.transact(car_update, self._ride_failure(ride_id, reason, at, change, execution))
                return change
            except Cancelled as cancelled:
                if not cancelled.failed(1):
                    raise CarStateConflict(f"car {car.car_id} moved while ride {ride_id} was released") from None
                _owned(self.get(ride_id), execution, f"release ride {ride_id}")
                try:  # the ride was closed already; the car is still held for it
                    self.cars.transact(car_update)
                    return change
                except Cancelled:
                    return None
        if not self.update(**self._ride_failure(ride_id, reason, at, None, execution)["Update"]):
            _owned(self.get(ride_id), execution, f"release ride {ride_id}")
        return None

    # --- resuming (fleet_domain.control.resume) ---------------------------------------------------

    def claim_trip_report(self, ride_id: str, token: str, report: dict[str, Any], at: str) -> bool:
        """Take the ride's task token for this report, so no second report can use it."""
        return self.update(
            TableName=self.table("rides"), Key={"ride_id": {"S": ride_id}},
            UpdateExpression="SET trip_report = :report, reported_at = :at REMOVE task_token",
            ConditionExpression="#status = :on_trip AND task_token = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(report=report, at=at, on_trip=RideStatus.ON_TRIP.value, token=token),
        )

    def reopen_trip_report(self, ride_id: str, token: str) -> bool:
        """Give the token back after the report could not be delivered for a passing reason."""
        return self.update(
            TableName=self.table("rides"), Key={"ride_id": {"S": ride_id}},
            UpdateExpression="SET task_token = :token REMOVE trip_report, reported_at",
            ConditionExpression="#status = :on_trip AND attribute_not_exists(task_token)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(token=token, on_trip=RideStatus.ON_TRIP.value),
        )

    # --- items ---------------------------------------------------------------------------

    def _ride_failure(self, ride_id: str, reason: str, at: str, change: CarChange | None,
                      execution: str) -> dict[str, Any]:
        update = "SET #status = :failed, reason = :reason, updated_at = :at"
        extra: dict[str, Any] = {}
        if change is not None:
            update += ", car_outcome = :outcome"
            extra[":outcome"] = attribute(change.__dict__)
        return {"Update": {
            "TableName": self.table("rides"), "Key": {"ride_id": {"S": ride_id}},
            "UpdateExpression": update + " REMOVE task_token",
            "ConditionExpression": "#status IN (:requested, :on_trip) AND dispatched_by = :by",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {**values(failed=RideStatus.FAILED.value, reason=reason, at=at,
                                                   requested=RideStatus.REQUESTED.value,
                                                   on_trip=RideStatus.ON_TRIP.value, by=execution), **extra},
        }}


def _owned(ride: Ride | None, execution: str, doing: str) -> Ride | None:
    """The ride as read after a refused write, unless another execution dispatches it now."""
    if ride is not None and ride.dispatched_by != execution:
        raise RideOwnerConflict(f"cannot {doing}: it is dispatched by {ride.dispatched_by}, not by {execution}")
    return ride
