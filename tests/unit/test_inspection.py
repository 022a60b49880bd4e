from __future__ import annotations

import pytest

from fleet_domain.models.car import CarDetails
from fleet_domain.models.errors import FleetError, TransientInspectionError
from fleet_domain.rules.inspection import inspect

CAR = {"car_id": "car-1HGCM82633A004352", "vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024,
       "seats": 4, "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88, "odometer_km": 1200}


def inspected(**change):
    return inspect(CarDetails.model_validate({**CAR, **change}))


def test_a_healthy_car_passes_with_no_findings():
    result = inspected()
    assert result.model_dump(mode="json") == {"car_id": CAR["car_id"], "passed": True, "findings": [],
                                              "battery_pct": 88.0}


@pytest.mark.parametrize("battery_pct, findings", [(14.9, ["battery below 15%"]), (0, ["battery below 15%"]),
                                                   (15, []), (100, [])])
def test_battery_below_15_percent_is_a_finding(battery_pct, findings):
    result = inspected(battery_pct=battery_pct)
    assert result.findings == findings
    assert result.passed is (not findings)


@pytest.mark.parametrize("odometer_km, findings", [(500_001, ["odometer over 500000 km"]), (500_000, []), (0, [])])
def test_odometer_over_500000_km_is_a_finding(odometer_km, findings):
    result = inspected(odometer_km=odometer_km)
    assert result.findings == findings
    assert result.passed is (not findings)


def test_both_findings_are_reported_in_order():
    result = inspected(battery_pct=3, odometer_km=600_000)
    assert result.findings == ["battery below 15%", "odometer over 500000 km"]
    assert result.passed is False and result.battery_pct == 3


def test_transient_inspection_error_has_the_name_the_workflow_retries():
    assert TransientInspectionError.__name__ == "TransientInspectionError"
    assert issubclass(TransientInspectionError, FleetError)
