"""Maintenance rules: what a request must be, which checks a car needs, the parts and the
technician for a job, how each check and the road test come out. Pure functions; no AWS here
(logic/maintenance.py has the use cases, data/jobs.py the data access).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fleet_domain.models.car import CarSnapshot
from fleet_domain.models.errors import MaintenanceRequestError
from fleet_domain.models.maintenance import (
    CHECKS,
    Booking,
    CheckResult,
    MaintenanceRequest,
    PartsOrder,
    RoadTestResult,
)
from fleet_domain.rules.requests import validated
from fleet_domain.rules.servicing import MAINTENANCE_BATTERY_PCT, SERVICE_INTERVAL_KM

#: Past this odometer reading a car fails its road test: it has reached the end of its service life.
SERVICE_LIFE_KM = 400_000
#: Brake pads and tyres wear out over this many km.
BRAKE_PAD_LIFE_KM = 40_000
TIRE_LIFE_KM = 50_000

TECHNICIANS = ("Ada Okafor", "Björn Lind", "Chen Wei", "Dana Cruz")
PARTS_FOR_CHECK = dict(zip(CHECKS, ("high-voltage battery module", "brake pad set", "tyre set", "lidar cleaning kit",
                                    "shock absorber pair"), strict=True))


_REQUEST_RULES = {"car_id": "must be a car id (car-<VIN>)", "reason": "must be 1 to 200 characters"}


def validate_request(event: Any) -> MaintenanceRequest:
    """The maintenance a request asks for, or MaintenanceRequestError naming the first field at fault."""
    return validated(MaintenanceRequest, event, MaintenanceRequestError, "maintenance request", _REQUEST_RULES.get)


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
