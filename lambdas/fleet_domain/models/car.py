"""The car: its registration request, its record in the Cars table, its status and its status
changes (CarEvent, published on the bus and kept as its history).

Numbers read from DynamoDB arrive as `Decimal`; the models read back from a table (StoredModel)
turn them into int or float before validating.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictFloat, StrictInt, field_validator

from fleet_domain.models.base import DomainModel, ExecutionArn, Key, StoredModel, Text, Version

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"  # 17 characters: digits and A-Z except I, O, Q
MIN_YEAR = 2010
DEFAULT_LOCATION = {"lat": 52.52, "lon": 13.405}  # Berlin, where new cars are commissioned


def max_year() -> int:
    """The newest model year accepted: next year's models are sold from this year on."""
    return datetime.now(UTC).year + 1


class CarStatus(str, Enum):
    REGISTERING = "REGISTERING"
    AVAILABLE = "AVAILABLE"
    RESERVED = "RESERVED"
    ON_TRIP = "ON_TRIP"
    IN_MAINTENANCE = "IN_MAINTENANCE"
    RETIRED = "RETIRED"
    REGISTRATION_FAILED = "REGISTRATION_FAILED"
    OUT_OF_SERVICE = "OUT_OF_SERVICE"


class Location(DomainModel):
    model_config = ConfigDict(extra="forbid")

    lat: Annotated[StrictFloat, Field(ge=-90, le=90)]
    lon: Annotated[StrictFloat, Field(ge=-180, le=180)]

    @field_validator("lat", "lon")
    @classmethod
    def _micro_degrees(cls, v: float) -> float:
        # ~10 cm is all a car's position needs; it also keeps numbers inside DynamoDB's range
        # (a magnitude under 1e-130 is refused there).
        return round(v, 6)


class CarRegistration(DomainModel):
    """The register request, as a client sends it."""

    model_config = ConfigDict(extra="forbid")

    # Field order is the order in which problems are reported.
    vin: Annotated[str, Field(strict=True, pattern=VIN_PATTERN)]
    # Letters, digits and a few marks (Unicode letters included), starting with a letter or digit.
    model: Annotated[str, Field(strict=True, min_length=1, max_length=64, pattern=r"^\w[\w .'()/+&-]*$")]
    # bool is not an int here. The bounds are also in the JSON schema (the API's
    # OpenAPI document); the validator re-checks the upper one for long-lived processes.
    year: Annotated[StrictInt, Field(ge=MIN_YEAR, le=max_year())]
    seats: Annotated[StrictInt, Field(ge=1, le=9)]
    location: Location = Field(default_factory=lambda: Location(**DEFAULT_LOCATION))
    battery_pct: Annotated[StrictFloat, Field(ge=0, le=100)] = 100.0
    odometer_km: Annotated[StrictInt, Field(ge=0, le=10_000_000)] = 0
    correlation_id: Annotated[str, Field(strict=True, max_length=128)] | None = None

    @field_validator("year", "seats", "odometer_km", mode="before")
    @classmethod
    def _integral_numbers(cls, v: Any) -> Any:
        # JSON has one number type: 2024.0 is the integer 2024 (as JSON Schema says), while a
        # bool or 4.5 is still refused by the strict type below.
        return int(v) if isinstance(v, float) and v.is_integer() else v

    @field_validator("battery_pct")
    @classmethod
    def _battery_precision(cls, v: float) -> float:
        return round(v, 2)

    @field_validator("vin", mode="before")
    @classmethod
    def _normalise_vin(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("model", mode="before")
    @classmethod
    def _strip_model(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v

    @field_validator("model")
    @classmethod
    def _printable_model(cls, v: str) -> str:
        if not v.isprintable():
            raise ValueError("not printable")
        return v

    @field_validator("year")
    @classmethod
    def _plausible_year(cls, v: int) -> int:
        if not MIN_YEAR <= v <= max_year():
            raise ValueError("out of range")
        return v


class CarDetails(StoredModel):
    """A car as validated (what ValidateCar returns and InspectCar reads): no status yet."""

    car_id: str
    vin: str
    model: str
    year: int
    seats: int
    location: Location
    battery_pct: float
    odometer_km: int
    cell: str | None = None  # the geohash cell of the location (rules/geo.py): the cell index's key
    area: str | None = None  # the coarser geohash cell of the location: the area index's key


class Car(CarDetails):
    """A car as stored in the Cars table: the one model of a car's record, read by the API, the
    dispatch and the maintenance workflows alike."""

    status: CarStatus
    version: Annotated[int, Field(ge=1)]
    created_at: str
    updated_at: str
    km_since_service: int = 0
    ride_id: str | None = None  # while RESERVED or ON_TRIP (rules/transitions.py HOLDER)
    job_id: str | None = None  # while IN_MAINTENANCE
    last_ride_id: str | None = None
    last_job_id: str | None = None
    registered_by: str | None = None  # the register execution that last wrote the car REGISTERING


class CarReadings(DomainModel):
    """A car's meters: what a trip changes and what maintenance looks at."""

    odometer_km: int
    battery_pct: float
    km_since_service: int = 0


class CarSnapshot(DomainModel):
    """A view of a car as a workflow carries it from state to state (maintenance; a trip's end)."""

    car_id: str
    status: str
    version: int
    model: str | None = None
    year: int | None = None
    odometer_km: int | None = None
    battery_pct: float | None = None
    km_since_service: int | None = None

    @classmethod
    def of(cls, car: "Car", **changes: Any) -> "CarSnapshot":
        return cls(**{**car.model_dump(include=set(cls.model_fields)), "status": car.status.value, **changes})


@dataclass(frozen=True)
class CarChange:
    """One status change a repository made to a car (what gets published as CarStatusChanged)."""

    car_id: str
    previous_status: str
    status: str
    version: int


class InspectionResult(DomainModel):
    car_id: str
    passed: bool
    findings: list[str]
    battery_pct: float


class CarEvent(StoredModel):
    """One status change of a car: published on the bus, kept as the car's ordered history."""

    car_id: Key
    status: CarStatus
    previous_status: CarStatus | None = None
    version: Version
    at: str  # ISO 8601 timestamp, as Step Functions writes it (e.g. 2026-11-24T18:00:00.123Z)
    execution_arn: ExecutionArn | None = None
    reason: Annotated[str, Field(max_length=4096), Text] | None = None

    @field_validator("at")
    @classmethod
    def _iso_timestamp(cls, v: str) -> str:
        datetime.fromisoformat(v)  # raises ValueError when it is not one
        return v


class CarStatusChanged(DomainModel):
    """The EventBridge envelope of a CarEvent (detail-type CarStatusChanged).

    Deliberately small instead of Powertools' EventBridgeModel: importing the parser's models
    package loads every event model it ships, which costs the consumer ~70 ms of cold start.
    """

    model_config = ConfigDict(populate_by_name=True)

    id: str | None = None
    detail_type: str = Field(alias="detail-type")
    source: str
    detail: CarEvent
