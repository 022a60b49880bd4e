"""The initial health check of a newly registered car."""

from __future__ import annotations

from fleet_domain.models.car import CarDetails, InspectionResult

MIN_BATTERY_PCT = 15
MAX_ODOMETER_KM = 500_000


def inspect(car: CarDetails) -> InspectionResult:
    """Findings for what would make the car unsafe to dispatch; it passes when there are none.

    A failed inspection is a domain outcome, not an error. The one error is
    TransientInspectionError (fleet_domain.models.errors): the car's telemetry link dropping for a
    moment, which the state machine retries. Here the telemetry arrives in the event, so this
    function never raises it; locally the fault is injected by the local cloud's fault injection
    (workflows/local/faults.py), not by this code.
    """
    findings = []
    if car.battery_pct < MIN_BATTERY_PCT:
        findings.append(f"battery below {MIN_BATTERY_PCT}%")
    if car.odometer_km > MAX_ODOMETER_KM:
        findings.append(f"odometer over {MAX_ODOMETER_KM} km")
    return InspectionResult(car_id=car.car_id, passed=not findings, findings=findings, battery_pct=car.battery_pct)
