"""Realistic examples for the OpenAPI document: what Swagger UI's "Try it out" fills in and what a
reader of the document sees, instead of schema-generated "string" placeholders. Each is a request
the API accepts or an answer it gives (tests/api checks the request examples against the models)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import Example

VIN = "1HGCM82633A004352"
CAR_ID = f"car-{VIN}"
REGISTER_ARN = f"arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:register-{VIN}"
RIDE_ID = "ride-2026-0412-berlin-17"
JOB_ID = "maintenance-car-1HGCM82633A004352-5f1c2a9e"
BERLIN = {"lat": 52.5200, "lon": 13.4050}

REGISTRATION = {"vin": VIN, "model": "Robotaxi S", "year": 2024, "seats": 4, "location": BERLIN, "battery_pct": 88}
RIDE = {"ride_id": RIDE_ID, "pickup": {"lat": 52.5163, "lon": 13.3777}, "dropoff": {"lat": 52.5076, "lon": 13.3904},
        "passengers": 2}
TRIP_END = {"odometer_km": 18452, "battery_pct": 71.5}
MAINTENANCE_ORDER = {"reason": "brake pads worn: 3 mm left at the front axle"}
SIGN_OFF = {"technician": "Ada Okafor", "passed": True, "notes": "pads and discs replaced, road test clean"}
REDRIVE_SOME = {"ids": ["3f1c8e2a9b7d4c6e0a5f1b2c3d4e5f6a7b8c9d0e"], "dry_run": True}
REDRIVE_ALL = {"all": True, "dry_run": False}


def examples(**named: tuple[str, dict[str, Any]]) -> dict[str, Example]:
    """OpenAPI named examples: name -> (summary, value)."""
    return {name: Example(summary=summary, value=value) for name, (summary, value) in named.items()}


REGISTRATION_EXAMPLES = examples(robotaxi=("A robotaxi parked in Berlin", REGISTRATION),
                                 minimal=("Only what is required", {k: REGISTRATION[k] for k in ("vin", "model", "year", "seats")}))
RIDE_EXAMPLES = examples(two_passengers=("Two passengers across Berlin-Mitte", RIDE))
TRIP_END_EXAMPLES = examples(reading=("The car's odometer and battery at drop-off", TRIP_END),
                             estimated=("Nothing measured: estimated from the route", {}))
MAINTENANCE_EXAMPLES = examples(brakes=("Worn brake pads", MAINTENANCE_ORDER))
SIGN_OFF_EXAMPLES = examples(passed=("Repaired and road-tested", SIGN_OFF),
                             failed=("Not fit for service", {"technician": "Ada Okafor", "passed": False,
                                                              "notes": "frame damage: retire"}))
REDRIVE_EXAMPLES = examples(some=("A dry run for one failure", REDRIVE_SOME), all=("Every open failure", REDRIVE_ALL))
