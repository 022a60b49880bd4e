"""The three handlers called as Lambda calls them: a JSON event and a context."""

from __future__ import annotations

import json

import inspect_car
import pytest
import record_car_event
import validate_car

from fleet_domain.models.errors import CarValidationError
from workflows.definitions import catalog

REQUEST = {"vin": "1hgcm82633a004352", "model": "Robotaxi S", "year": 2024, "seats": 4, "battery_pct": 88,
           "correlation_id": "req-42"}
CAR = {"car_id": "car-1HGCM82633A004352", "vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024,
       "seats": 4, "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88.0, "odometer_km": 0,
       "cell": "u33dc0", "area": "u33dc"}  # the geohash cells of the location (rules/geo.py)


def status_changed(version: int, status: str, previous: str | None = None) -> dict:
    """An event as EventBridge delivers it to the consumer."""
    detail = {"car_id": CAR["car_id"], "status": status, "version": version, "at": "2026-11-24T18:00:00.000Z",
              "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:x",
              "reason": "registered"}
    if previous:
        detail["previous_status"] = previous
    return {"version": "0", "id": f"evt-{version}", "detail-type": "CarStatusChanged", "source": "fleet.cars",
            "account": "123456789012", "time": "2026-11-24T18:00:00Z", "region": "us-east-1", "resources": [],
            "detail": detail}


def emitted_metrics(capsys) -> set[str]:
    names = set()
    for line in capsys.readouterr().out.splitlines():
        try:
            blob = json.loads(line)
        except json.JSONDecodeError:
            continue
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == "CarFleet"
            names |= {m["Name"] for m in directive["Metrics"]}
    return names


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


def test_the_catalog_names_these_handlers():
    assert {f.handler for f in catalog.FUNCTIONS} >= {"validate_car.handler", "inspect_car.handler",
                                                      "record_car_event.handler"}


def test_validate_car_returns_the_validated_car_as_json(lambda_context):
    out = validate_car.handler(REQUEST, lambda_context)
    assert out == CAR
    assert json.loads(json.dumps(out)) == out


def test_validate_car_raises_the_domain_error_for_the_state_machine(lambda_context):
    with pytest.raises(CarValidationError, match=r"^seats: must be a whole number from 1 to 9$"):
        validate_car.handler({**REQUEST, "seats": True}, lambda_context)


def test_validate_car_counts_validated_cars(lambda_context, capsys, metrics_on):
    validate_car.handler(REQUEST, lambda_context)
    assert "CarsValidated" in emitted_metrics(capsys)


def test_with_metrics_disabled_nothing_is_printed_however_many_invocations(lambda_context, capsys, monkeypatch):
    """Powertools keeps disabled metrics (it clears them only when it prints) and prints the batch
    once it holds 100 values: the local cloud's terminal filled with EMF blobs under load."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(150):
        validate_car.handler(REQUEST, lambda_context)
    assert "CloudWatchMetrics" not in capsys.readouterr().out


def test_inspect_car_reads_what_validate_car_returns(lambda_context):
    out = inspect_car.handler(validate_car.handler(REQUEST, lambda_context), lambda_context)
    assert out == {"car_id": CAR["car_id"], "passed": True, "findings": [], "battery_pct": 88.0}


def test_inspect_car_reports_findings_as_a_result_not_an_error(lambda_context, capsys, metrics_on):
    out = inspect_car.handler({**CAR, "battery_pct": 9, "odometer_km": 612_000}, lambda_context)
    assert out == {"car_id": CAR["car_id"], "passed": False,
                   "findings": ["battery below 15%", "odometer over 500000 km"], "battery_pct": 9.0}
    assert "InspectionsFailed" in emitted_metrics(capsys)


def test_record_car_event_keeps_the_history_and_ignores_redelivery(dynamodb, lambda_context, capsys, metrics_on):
    from fleet_domain.data.car_history import CarHistoryRepository

    second = status_changed(2, "AVAILABLE", "REGISTERING")
    assert record_car_event.handler(second, lambda_context) == {"car_id": CAR["car_id"], "version": 2,
                                                                "recorded": True}
    assert record_car_event.handler(status_changed(1, "REGISTERING"), lambda_context)["recorded"] is True
    assert "CarEventsRecorded" in emitted_metrics(capsys)

    assert record_car_event.handler(second, lambda_context) == {"car_id": CAR["car_id"], "version": 2,
                                                                "recorded": False}
    assert "CarEventsRedelivered" in emitted_metrics(capsys)

    history = CarHistoryRepository().history(CAR["car_id"])
    assert [(e.version, e.status.value, e.previous_status) for e in history] == [
        (1, "REGISTERING", None), (2, "AVAILABLE", "REGISTERING")]
    assert dynamodb.scan(TableName=catalog.table("CarHistory").table_name)["Count"] == 2


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_record_car_event_rejects_an_event_without_a_car_event(dynamodb, lambda_context):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        record_car_event.handler({"detail": {}}, lambda_context)
    assert dynamodb.scan(TableName=catalog.table("CarHistory").table_name)["Count"] == 0
