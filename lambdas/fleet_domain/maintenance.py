"""Maintenance rules: what a request must be, which checks a car needs, the parts and the
technician for a job, how each check and the road test come out. Pure functions and models; no
AWS here (see workshop.py for the use cases and maintenance_repository.py for the data access).
Errors are in lifecycle_errors.py.
"""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, ValidationError

from fleet_domain.dispatch import MAINTENANCE_BATTERY_PCT, SERVICE_INTERVAL_KM
from fleet_domain.lifecycle_errors import MaintenanceRequestError
from fleet_domain.models import DomainModel


class JobStatus(str, Enum):
    OPEN = "OPEN"  # the car is IN_MAINTENANCE for this job
    AWAITING_SIGN_OFF = "AWAITING_SIGN_OFF"  # checks done; the job holds the task token
    SIGNED_OFF = "SIGNED_OFF"  # the technician answered (passed or not); road test or retirement next
    COMPLETED = "COMPLETED"  # the car is back in service
    RETIRED = "RETIRED"  # the car left the fleet
    FAILED = "FAILED"  # an operational failure; the car is OUT_OF_SERVICE, the DLQ has the details


ACTIVE_JOB_STATUSES = frozenset({JobStatus.OPEN, JobStatus.AWAITING_SIGN_OFF, JobStatus.SIGNED_OFF})

#: Past this odometer reading a car fails its road test: it has reached the end of its service life.
SERVICE_LIFE_KM = 400_000
#: Brake pads and tyres wear out over this many km.
BRAKE_PAD_LIFE_KM = 40_000
TIRE_LIFE_KM = 50_000

TECHNICIANS = ("Ada Okafor", "Björn Lind", "Chen Wei", "Dana Cruz")
PARTS_FOR_CHECK = {
    "battery": "high-voltage battery module",
    "brakes": "brake pad set",
    "tires": "tyre set",
    "sensors": "lidar cleaning kit",
    "suspension": "shock absorber pair",
}


class MaintenanceRequest(DomainModel):
    """The maintenance request: from a user (`fleet run maintenance`) or a dispatch (StartMaintenance)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    car_id: Annotated[str, Field(strict=True, min_length=1, max_length=64)]
    reason: Annotated[str, Field(strict=True, min_length=1, max_length=200)]
    ride_id: str | None = None  # the trip after which a dispatch found maintenance due
    started_by: str | None = Field(None, alias="AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
    correlation_id: Annotated[str, Field(strict=True, max_length=128)] | None = None


class CarSnapshot(DomainModel):
    """The car as the maintenance workflow carries it from state to state."""

    car_id: str
    status: str
    version: int
    model: str | None = None
    year: int | None = None
    odometer_km: int | None = None
    battery_pct: float | None = None
    km_since_service: int | None = None


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


def validate_request(event: Any) -> MaintenanceRequest:
    try:
        return MaintenanceRequest.model_validate(event)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "request"
        if error["type"] == "missing":
            raise MaintenanceRequestError(field, "is required") from None
        if error["type"] == "extra_forbidden":
            raise MaintenanceRequestError(field, "is not a field of a maintenance request") from None
        rules = {"car_id": "must be a car id (car-<VIN>)", "reason": "must be 1 to 200 characters"}
        raise MaintenanceRequestError(field, rules.get(field, error["msg"])) from None


def diagnose(car: CarSnapshot, reason: str) -> list[str]:
    """The checks to run: the basics always, the battery and suspension when the car or the
    reason calls for them."""
    checks = ["brakes", "tires", "sensors"]
    if (car.battery_pct is not None and car.battery_pct < MAINTENANCE_BATTERY_PCT) or "battery" in reason.lower():
        checks.insert(0, "battery")
    if (car.km_since_service or 0) >= SERVICE_INTERVAL_KM:
        checks.append("suspension")
    return checks


def _stable_index(key: str, n: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n


def order_parts(job_id: str, checks: list[str]) -> PartsOrder:
    """One order per job (its id derives from the job, so a retried order is the same order)."""
    return PartsOrder(order_id=f"po-{hashlib.sha256(job_id.encode()).hexdigest()[:10]}",
                      parts=[PARTS_FOR_CHECK[c] for c in checks if c in PARTS_FOR_CHECK])


def book_technician(job_id: str) -> Booking:
    return Booking(technician=TECHNICIANS[_stable_index(job_id, len(TECHNICIANS))],
                   slot=f"bay-{_stable_index(job_id + '/bay', 4) + 1}")


def run_check(check: str, car: CarSnapshot) -> CheckResult:
    """One check's result. A failed check is a finding for the technician, not an error."""
    odometer = car.odometer_km or 0
    since = car.km_since_service or 0
    if check == "battery":
        pct = car.battery_pct if car.battery_pct is not None else 100.0
        return CheckResult(check=check, passed=pct >= MAINTENANCE_BATTERY_PCT, reading=f"charge {pct:g}%")
    if check == "brakes":
        wear = min(100, round(100 * (odometer % BRAKE_PAD_LIFE_KM) / BRAKE_PAD_LIFE_KM))
        return CheckResult(check=check, passed=wear < 80, reading=f"pad wear {wear}%")
    if check == "tires":
        wear = min(100, round(100 * (odometer % TIRE_LIFE_KM) / TIRE_LIFE_KM))
        return CheckResult(check=check, passed=wear < 80, reading=f"tread wear {wear}%")
    if check == "sensors":
        return CheckResult(check=check, passed=True, reading="lidar and cameras calibrated")
    if check == "suspension":
        return CheckResult(check=check, passed=since < 2 * SERVICE_INTERVAL_KM, reading=f"{since} km since service")
    raise ValueError(f"unknown check {check!r}")


def road_test(car: CarSnapshot) -> RoadTestResult:
    findings = []
    if (car.odometer_km or 0) >= SERVICE_LIFE_KM:
        findings.append(f"odometer {car.odometer_km} km: past the fleet's service life of {SERVICE_LIFE_KM} km")
    return RoadTestResult(passed=not findings, findings=findings)


# --- The pure steps' events: Diagnose, OrderParts, BookTechnician, RunCheck, RoadTest ------------
# (here, not in workshop.py, so that those five functions load no AWS client or repository)


class JobRef(DomainModel):
    job_id: str
    car_id: str
    reason: str
    ride_id: str | None = None


def _known_check(check: str) -> str:
    if check not in PARTS_FOR_CHECK:
        raise ValueError(f"must be one of {', '.join(PARTS_FOR_CHECK)}")
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
