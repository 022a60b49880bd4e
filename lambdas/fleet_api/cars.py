"""/cars: register a car (the register workflow), list the fleet, one car and its history."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field

from fleet_api import examples, pages
from fleet_api.app import json_response, request_id
from fleet_api.errors import ApiError, Conflict, Invalid, NotFound
from fleet_api.executions import execution_link, wait_budget
from fleet_api.idempotency import once
from fleet_api.schemas import (
    CONFLICT,
    INVALID,
    NOT_COMPLETED,
    NOT_FOUND,
    UNREADABLE,
    Accepted,
    IdempotencyKey,
    Links,
    NextToken,
    PageLimit,
    WaitSeconds,
    response,
)
from fleet_domain.control import workflows
from fleet_domain.data.car_history import CarHistoryRepository
from fleet_domain.data.cars import CarRepository
from fleet_domain.models.base import DomainModel
from fleet_domain.models.car import Car, CarEvent, CarRegistration, CarStatus
from fleet_domain.platform.observability import metrics
from fleet_domain.rules.registration import car_id_for

router = Router()


class CarAccepted(Accepted):
    car_id: str


class CarView(DomainModel):
    car: Car
    history: list[CarEvent]


class CarList(DomainModel):
    cars: list[Car]
    next_token: str | None = Field(None, description="pass it as ?next_token= for the next page; absent on the last")


@router.post("/cars", tags=["cars"], summary="Register a car (starts the register workflow)",
             responses={202: response("started", CarAccepted), 201: response("registered (with ?wait)", CarAccepted),
                        200: response("finished with another outcome (with ?wait)", CarAccepted),
                        **UNREADABLE, **CONFLICT, **INVALID, **NOT_COMPLETED})
def register_car(car: Annotated[CarRegistration, Body(openapi_examples=examples.REGISTRATION_EXAMPLES)],
                 wait: WaitSeconds = None, idempotency_key: IdempotencyKey = None) -> Response[Any]:
    request = car.model_dump(mode="json", exclude={"correlation_id"})
    car_id = car_id_for(car.vin)

    def start() -> dict[str, Any]:
        started = workflows.start(workflows.REGISTER, request, correlation_id=request_id())
        metrics.add_metric(name="RegistrationsStarted" if started.new else "RegistrationsDeduplicated",
                           unit=MetricUnit.Count, value=1)
        return {"car_id": car_id, "execution_arn": started.execution_arn}

    started = once(idempotency_key, "register", request, start)
    links = Links(car=f"/cars/{car_id}", execution=execution_link(started["execution_arn"]))
    if wait:
        view = workflows.wait(started["execution_arn"], wait_budget(wait))
        return _registration_answer(view, car_id, links)
    return json_response(202, CarAccepted(car_id=car_id, execution_arn=started["execution_arn"], status="RUNNING",
                                          links=links))


def _registration_answer(view: workflows.ExecutionView, car_id: str, links: Links) -> Response[Any]:
    body = CarAccepted(car_id=car_id, execution_arn=view.execution_arn, status=view.status, links=links)
    if view.status == "RUNNING":
        return json_response(202, body)
    if view.status == "SUCCEEDED":
        outcome = (view.output or {}).get("outcome")
        body.outcome, body.output = outcome, view.output
        if outcome == "CarAlreadyRegistered":
            raise Conflict(f"car {car_id} is already registered", [{"outcome": outcome}])
        return json_response(201 if outcome == "CarRegistered" else 200, body)
    if view.error == "CarValidationError":
        raise Invalid(view.cause or "invalid car", [{"error": view.error}])
    raise ApiError(f"registration did not complete: {view.error or view.status}",
                   [{"execution_arn": view.execution_arn}], status=502)


@router.get("/cars", tags=["cars"], summary="List cars, optionally by status, a page at a time",
            description="By status, then car id (a Query on the status index per status, never a Scan). "
                        "The status index is eventually consistent: a car that just changed status may be "
                        "listed under the one it left for a moment.",
            responses={200: response("a page of cars", CarList), **INVALID})
def list_cars(status: Annotated[CarStatus | None, Query(examples=["AVAILABLE"])] = None, limit: PageLimit = 50,
              next_token: NextToken = None) -> CarList:
    statuses = [status] if status else list(CarStatus)
    start = pages.decode(next_token, "cars", status.value if status else None) if next_token else None
    if start is not None and (start.get("status") not in [s.value for s in statuses]
                              or not isinstance(start.get("after"), str) or not 0 < len(start["after"]) <= 128):
        raise pages.not_ours()
    repo, found = CarRepository(), list[tuple[CarStatus, Car]]()
    for s in statuses[[x.value for x in statuses].index(start["status"]) if start else 0:]:
        after = start["after"] if start and start["status"] == s.value else None
        found += [(s, car) for car in repo.page_by_status(s, after=after, limit=limit + 1 - len(found))]
        if len(found) > limit:
            break
    more, found = len(found) > limit, found[:limit]
    token = pages.encode("cars", status.value if status else None,
                         {"status": found[-1][0].value, "after": found[-1][1].car_id}) if more else None
    return CarList(cars=[car for _, car in found], next_token=token)


@router.get("/cars/<car_id>", tags=["cars"], summary="A car's record and recent history",
            responses={200: response("the car", CarView), **NOT_FOUND, **INVALID})
def get_car(car_id: Annotated[str, Path(max_length=64, examples=[examples.CAR_ID])]) -> CarView:
    car = CarRepository().get(car_id)
    if car is None:
        raise NotFound(f"no car {car_id}")
    return CarView(car=car, history=CarHistoryRepository().history(car_id)[-20:])
