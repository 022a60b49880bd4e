"""A maintenance job: the request, the car as the workflow carries it, the checks, parts,
technician, sign-off and road test, and the job's record in the MaintenanceJobs table; the inputs
and outputs of the maintenance workflow's functions."""

from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

from fleet_domain.models.base import (
    DomainModel,
    ErrorName,
    ExecutionArn,
    Key,
    StateName,
    TaskToken,
    Text,
    Timestamp,
    Version,
)
from fleet_domain.models.car import CarSnapshot


class JobStatus(str, Enum):
    OPEN = "OPEN"  # the car is IN_MAINTENANCE for this job
    AWAITING_SIGN_OFF = "AWAITING_SIGN_OFF"  # checks done; the job holds the task token
    SIGNED_OFF = "SIGNED_OFF"  # the technician answered (passed or not); road test or retirement next
    COMPLETED = "COMPLETED"  # the car is back in service
    RETIRED = "RETIRED"  # the car left the fleet
    FAILED = "FAILED"  # an operational failure; the car is OUT_OF_SERVICE, the DLQ has the details


#: A job in one of these holds its car (in this order in conditions).
ACTIVE_JOB_STATUSES = (JobStatus.OPEN, JobStatus.AWAITING_SIGN_OFF, JobStatus.SIGNED_OFF)

#: The checks a maintenance can run (one RunCheck each), in the order they are listed.
CHECKS = ("battery", "brakes", "tires", "sensors", "suspension")


class MaintenanceRequest(DomainModel):
    """The maintenance request: from a user (`fleet run maintenance`) or a dispatch (StartMaintenance)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    car_id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]
    reason: Annotated[str, Field(strict=True, min_length=1, max_length=200)]
    ride_id: str | None = None  # the trip after which a dispatch found maintenance due
    started_by: str | None = Field(None, alias="AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
    correlation_id: Annotated[str, Field(strict=True, max_length=128)] | None = None


class CheckResult(DomainModel):
    check: str
    passed: bool
    reading: str


class PartsOrder(DomainModel):
    order_id: str
    parts: list[str]


class Booking(DomainModel):
    technician: str
    slot: str


class RoadTestResult(DomainModel):
    passed: bool
    findings: list[str]


class SignOff(DomainModel):
    """The technician's answer, delivered through the job's task token."""

    model_config = ConfigDict(extra="ignore")

    passed: bool
    notes: Annotated[str, Field(max_length=2000)] = ""  # as the API takes them; part of a retirement's reason
    technician: str | None = None
    signed_off_at: str | None = None


class MaintenanceJob(DomainModel):
    """A job as stored in the MaintenanceJobs table."""

    job_id: str
    car_id: str
    reason: str
    status: JobStatus
    opened_at: str
    updated_at: str
    execution_arn: str | None = None
    ride_id: str | None = None
    car_version: int | None = None
    checks: list[dict[str, Any]] | None = None
    parts: dict[str, Any] | None = None
    technician: dict[str, Any] | None = None
    task_token: str | None = None
    sign_off: dict[str, Any] | None = None
    road_test: dict[str, Any] | None = None
    closed_at: str | None = None
    closed_car_version: int | None = None
    reason_closed: str | None = None

    @property
    def waiting(self) -> bool:
        """Whether the job is waiting for the technician's sign-off (its task token is here)."""
        return self.status is JobStatus.AWAITING_SIGN_OFF and bool(self.task_token)


# --- the pure steps' events: Diagnose, OrderParts, BookTechnician, RunCheck, RoadTest ------------


class JobRef(DomainModel):
    job_id: str
    car_id: str
    reason: str
    ride_id: str | None = None


def _known_check(check: str) -> str:
    if check not in CHECKS:
        raise ValueError(f"must be one of {', '.join(CHECKS)}")
    return check


class Diagnosis(DomainModel):
    """Diagnose's event: the job and the car as the workflow carries them."""

    job: JobRef
    car: CarSnapshot


class PartsRequest(DomainModel):
    """OrderParts' event: the job and the checks Diagnose chose."""

    job: JobRef
    checks: list[str]


class TechnicianRequest(DomainModel):
    """BookTechnician's event (the car rides along; the booking depends on the job only)."""

    job: JobRef


class CheckRequest(DomainModel):
    """RunCheck's event: one item of the RunChecks Map."""

    job_id: str | None = None
    car: CarSnapshot
    check: Annotated[str, Field(strict=True), AfterValidator(_known_check)]


class RoadTestRequest(DomainModel):
    job_id: str | None = None
    car: CarSnapshot


# --- EnterMaintenance ----------------------------------------------------------------------------


class MaintenanceEntry(DomainModel):
    request: Any  # the execution's input, validated here
    job_id: Key  # the execution's name
    at: Timestamp
    execution_arn: ExecutionArn | None = None


class Entered(DomainModel):
    entered: bool  # False: refused, the car is not AVAILABLE (car.status says what it is)
    job: JobRef
    car: CarSnapshot


# --- RequestSignOff ------------------------------------------------------------------------------


class SignOffRequest(DomainModel):
    job_id: Key
    car_id: Key
    # What the technician decides on, stored on the job: typed, so only these shapes are stored.
    checks: list[CheckResult]
    parts: PartsOrder
    technician: Booking
    task_token: TaskToken
    at: Timestamp


# --- ReturnToService, RetireCar, MarkMaintenanceFailed -------------------------------------------


class Closed(DomainModel):
    car_id: str
    status: str
    version: int


class ServiceReturn(DomainModel):
    job_id: Key
    car_id: Key
    version: Version  # the car's IN_MAINTENANCE version
    sign_off: SignOff
    road_test: RoadTestResult
    at: Timestamp
    execution_arn: ExecutionArn | None = None


class Retirement(DomainModel):
    # Bounded: the reason, the findings and the notes make the CarStatusChanged event's reason.
    reason: Annotated[str, Field(strict=True, min_length=1, max_length=200), Text]
    findings: Annotated[list[Annotated[str, Field(strict=True, max_length=200), Text]], Field(max_length=10)] | None = None


class CarRetirement(DomainModel):
    job_id: Key
    car_id: Key
    version: Version
    retirement: Retirement
    sign_off: SignOff
    at: Timestamp
    execution_arn: ExecutionArn | None = None


class MaintenanceFailure(DomainModel):
    job_id: Key
    car_id: Key
    version: Version
    failed_state: StateName
    error: ErrorName
    at: Timestamp
    execution_arn: ExecutionArn | None = None
