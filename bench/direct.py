"""The register workflow's happy path without Step Functions: the reference the local cloud is
measured against.

The same handlers (ValidateCar, InspectCar) and the same DynamoDB and EventBridge operations, with
the same parameters as statemachines/register_car.asl.json builds them, called directly with
boto3 against moto in the same process, in the same order: ValidateCar -> PersistCar (PutItem,
attribute_not_exists) -> InspectCar -> ActivateCar (UpdateItem, status and version condition) ->
PublishCarRegistered (PutEvents, two entries). The EventBridge rule still delivers the events to
the audit consumer, asynchronously, as in the workflow.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from workflows.definitions import catalog
from workflows.local.cloud import LocalCloud
from workflows.local.names import function_arn
from workflows.local.sandbox import Context


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fmt(value: Any) -> str:
    """States.Format('{}', value) for a number."""
    return json.dumps(value)


class DirectRegister:
    def __init__(self, cloud: LocalCloud):
        import inspect_car
        import validate_car

        self.cloud = cloud
        self.ddb = cloud.client("dynamodb")
        self.events = cloud.client("events")
        self.cars = catalog.table("Cars").table_name
        self.bus = catalog.FLEET_BUS.bus_name
        self._validate, self._inspect = validate_car.handler, inspect_car.handler
        self._functions = (catalog.function("ValidateCar"), catalog.function("InspectCar"))

    def _context(self, function: catalog.Function) -> Context:
        request_id = str(uuid.uuid4())
        return Context({"request_id": request_id, "function_name": function.function_name,
                        "function_arn": function_arn(function), "memory_mb": function.memory_mb,
                        "log_group": f"/aws/lambda/{function.function_name}", "log_stream": "direct",
                        "deadline": time.time() + function.timeout_s})

    def register(self, request: dict) -> dict:
        me = f"direct:{uuid.uuid4()}"
        started = _now()
        car = self._validate(request, self._context(self._functions[0]))
        self.ddb.put_item(
            TableName=self.cars,
            Item={
                "car_id": {"S": car["car_id"]}, "vin": {"S": car["vin"]}, "model": {"S": car["model"]},
                "year": {"N": _fmt(car["year"])}, "seats": {"N": _fmt(car["seats"])}, "status": {"S": "REGISTERING"},
                "location": {"M": {"lat": {"N": _fmt(car["location"]["lat"])},
                                   "lon": {"N": _fmt(car["location"]["lon"])}}},
                "battery_pct": {"N": _fmt(car["battery_pct"])}, "odometer_km": {"N": _fmt(car["odometer_km"])},
                "km_since_service": {"N": "0"}, "version": {"N": "1"}, "created_at": {"S": started},
                "updated_at": {"S": _now()}, "registered_by": {"S": me},
            },
            ConditionExpression="attribute_not_exists(car_id)",
        )
        inspection = self._inspect(car, self._context(self._functions[1]))
        if not inspection["passed"]:
            raise AssertionError(f"the reference registers a healthy car: {inspection}")
        self.ddb.update_item(
            TableName=self.cars, Key={"car_id": {"S": car["car_id"]}},
            UpdateExpression="SET #status = :available, #version = #version + :one, updated_at = :now",
            ConditionExpression="#status = :registering AND #version = :v",
            ExpressionAttributeNames={"#status": "status", "#version": "version"},
            ExpressionAttributeValues={":available": {"S": "AVAILABLE"}, ":registering": {"S": "REGISTERING"},
                                       ":one": {"N": "1"}, ":now": {"S": _now()}, ":v": {"N": "1"}},
        )
        detail = {"car_id": car["car_id"], "execution_arn": me}
        self.events.put_events(Entries=[
            {"EventBusName": self.bus, "Source": "fleet.cars", "DetailType": "CarStatusChanged",
             "Detail": json.dumps({**detail, "status": "REGISTERING", "previous_status": None, "version": 1,
                                   "at": started, "reason": "registration started"})},
            {"EventBusName": self.bus, "Source": "fleet.cars", "DetailType": "CarStatusChanged",
             "Detail": json.dumps({**detail, "status": "AVAILABLE", "previous_status": "REGISTERING", "version": 2,
                                   "at": _now(), "reason": "registered"})},
        ])
        return {"outcome": "CarRegistered", "car_id": car["car_id"], "status": "AVAILABLE", "version": 2}
