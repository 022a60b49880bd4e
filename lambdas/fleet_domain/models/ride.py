"""A ride: the dispatch request, the candidates for it, the route, the trip, and the ride's record
in the Rides table; the inputs and outputs of the dispatch workflow's functions."""

from enum import Enum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt, field_validator

from fleet_domain.models.base import (
    DomainModel,
    ErrorName,
    ExecutionArn,
    Key,
    StateName,
    TaskToken,
    Timestamp,
    Version,
)
from fleet_domain.models.car import Car, CarReadings, CarSnapshot, Location

RIDE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"  # it becomes part of execution names


class RideStatus(str, Enum):
    REQUESTED = "REQUESTED"  # recorded; a car may be reserved for it (the car holds ride_id)
    ON_TRIP = "ON_TRIP"  # the car has the trip; the ride holds the task token while it waits
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"  # no car could be reserved
    FAILED = "FAILED"  # an operational failure; the DLQ has the details


ACTIVE_RIDE_STATUSES = frozenset({RideStatus.REQUESTED, RideStatus.ON_TRIP})


class RideRequest(DomainModel):
    """The dispatch request, as a client sends it."""

    model_config = ConfigDict(extra="forbid")

    ride_id: Annotated[str, Field(strict=True, pattern=RIDE_ID_PATTERN)]
    pickup: Location
    dropoff: Location
    passengers: Annotated[StrictInt, Field(ge=1, le=9)]
    # The API's request id, carried into the execution so a request can be followed into it.
    correlation_id: Annotated[str, Field(strict=True, max_length=128)] | None = None

    @field_validator("passengers", mode="before")
    @classmethod
    def _integral_passengers(cls, v: Any) -> Any:
        # JSON has one number type: 2.0 is the integer 2 (as JSON Schema says); 2.5 and True are not.
        return int(v) if isinstance(v, float) and v.is_integer() else v


class Candidate(CarReadings):
    """A car that can take the ride, as read at `version`: ReserveCar is conditional on it."""

    car_id: str
    version: int
    seats: int
    location: Location
    distance_km: float  # to the pickup

    @classmethod
    def of(cls, car: Car, distance_km: float) -> "Candidate":
        return cls(**car.model_dump(include=set(cls.model_fields)), distance_km=distance_km)


class Route(DomainModel):
    pickup_km: float  # car to pickup
    trip_km: float  # pickup to dropoff
    distance_km: float  # the whole drive
    eta_min: int  # to the dropoff


class TripReport(DomainModel):
    """What the car reports at the end of a trip. Missing values are estimated from the route."""

    model_config = ConfigDict(extra="ignore")

    odometer_km: Annotated[int, Field(ge=0)] | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None


class CarAfterTrip(CarReadings):
    """The car's meters after a trip (kept on the ride), and how far it drove."""

    driven_km: int


class MaintenanceDue(DomainModel):
    due: bool
    reason: str | None = None


class Ride(DomainModel):
    """A ride as stored in the Rides table."""

    ride_id: str
    status: RideStatus
    pickup: Location
    dropoff: Location
    passengers: int
    requested_at: str
    updated_at: str
    dispatched_by: str
    car_id: str | None = None
    route: Route | None = None
    task_token: str | None = None
    trip_report: dict[str, Any] | None = None
    trip: CarAfterTrip | None = None
    reason: str | None = None
    car_outcome: dict[str, Any] | None = None
    started_at: str | None = None
    completed_at: str | None = None

    @property
    def waiting(self) -> bool:
        """Whether the ride's trip is waiting to be completed (its task token is here)."""
        return self.status is RideStatus.ON_TRIP and bool(self.task_token)


# --- FindCandidates ------------------------------------------------------------------------------


class Candidates(DomainModel):
    ride: RideRequest
    candidates: list[Candidate]
    count: int
    items_read: int = 0  # what the cell index Queries read to find them


# --- PlanRoute -----------------------------------------------------------------------------------


class RouteRequest(DomainModel):
    car_id: str
    start: Location
    pickup: Location
    dropoff: Location


# --- StartTrip -----------------------------------------------------------------------------------


class TripStart(DomainModel):
    ride_id: Key
    car_id: Key
    version: Version  # the car's RESERVED version
    route: Route
    task_token: TaskToken
    at: Timestamp
    execution_arn: ExecutionArn  # the dispatch's: every ride write is conditional on it owning the ride


class TripStarted(DomainModel):
    ride_id: str
    car_id: str
    version: int  # the car's ON_TRIP version


# --- CompleteTrip --------------------------------------------------------------------------------


class TripCompletion(DomainModel):
    ride_id: Key
    car_id: Key
    version: Version  # the car's ON_TRIP version
    before: CarReadings
    route: Route
    dropoff: Location
    report: Any = None  # what the car sent back through the task token
    at: Timestamp
    execution_arn: ExecutionArn  # the dispatch's: every ride write is conditional on it owning the ride


class TripCompleted(DomainModel):
    car: CarSnapshot
    maintenance: MaintenanceDue


# --- MarkRideFailed ------------------------------------------------------------------------------


class HeldCandidate(DomainModel):
    """The car the ride tried to reserve: MarkRideFailed reads it again and releases it only if
    the ride holds it then."""

    car_id: Key
    version: Version  # the version the car was AVAILABLE at when the ride tried to reserve it


class RideFailure(DomainModel):
    ride_id: Key
    candidate: HeldCandidate | None = None
    failed_state: StateName
    error: ErrorName
    at: Timestamp
    execution_arn: ExecutionArn  # the dispatch's: every ride write is conditional on it owning the ride


class RideFailed(DomainModel):
    ride_id: str
    car_id: str | None = None
    car_status: str | None = None
