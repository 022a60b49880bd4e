"""/rides: request a ride (the dispatch workflow), a ride, and the end of its trip."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import ConfigDict, Field

from fleet_api import examples
from fleet_api.app import json_response, request_id
from fleet_api.errors import Conflict, Invalid, NotFound
from fleet_api.executions import execution_link, follow
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
    Resumed,
    WaitSeconds,
    response,
)
from fleet_domain.control import resume, workflows
from fleet_domain.data.base import dynamodb
from fleet_domain.data.rides import RideRepository
from fleet_domain.models.base import DomainModel
from fleet_domain.models.ride import Ride, RideRequest

router = Router()


class RideAccepted(Accepted):
    ride_id: str


class TripCompletion(DomainModel):
    model_config = ConfigDict(extra="forbid")

    odometer_km: Annotated[int, Field(ge=0, le=10000000)] | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None


@router.post("/rides", tags=["rides"], summary="Request a ride (starts the dispatch workflow)",
             responses={202: response("started (or still waiting for its trip, with ?wait)", RideAccepted),
                        200: response("finished (with ?wait), e.g. NoCarAvailable", RideAccepted),
                        **UNREADABLE, **INVALID, **NOT_COMPLETED})
def request_ride(ride: Annotated[RideRequest, Body(openapi_examples=examples.RIDE_EXAMPLES)], wait: WaitSeconds = None,
                 idempotency_key: IdempotencyKey = None) -> Response[Any]:
    request = ride.model_dump(mode="json", exclude={"correlation_id"})

    def start() -> dict[str, Any]:
        started = workflows.start(workflows.DISPATCH, request, correlation_id=request_id())
        return {"execution_arn": started.execution_arn}

    started = once(idempotency_key, "dispatch", request, start)
    links = Links(ride=f"/rides/{ride.ride_id}", execution=execution_link(started["execution_arn"]))
    return follow(started["execution_arn"], wait,
                  RideAccepted(ride_id=ride.ride_id, execution_arn=started["execution_arn"], status="RUNNING", links=links))


@router.get("/rides/<ride_id>", tags=["rides"], summary="A ride: status, car, route, trip",
            responses={200: response("the ride", Ride), **NOT_FOUND, **INVALID})
def get_ride(ride_id: Annotated[str, Path(max_length=64, examples=[examples.RIDE_ID])]) -> Ride:
    ride = RideRepository().get(ride_id)
    if ride is None:
        raise NotFound(f"no ride {ride_id}")
    return ride.model_copy(update={"task_token": None})  # the token is the workflow's, not the client's


@router.post("/rides/<ride_id>/complete", tags=["rides"], summary="Report the end of a ride's trip (resumes the dispatch)",
             responses={200: response("the trip's end was handed to the workflow", Resumed), **UNREADABLE, **NOT_FOUND,
                        **CONFLICT, **INVALID})
def complete_ride(ride_id: Annotated[str, Path(max_length=64, examples=[examples.RIDE_ID])],
                  completion: Annotated[TripCompletion | None, Body(openapi_examples=examples.TRIP_END_EXAMPLES)] = None,
                  ) -> Response[Any]:
    completion = completion or TripCompletion()
    if RideRepository().get(ride_id) is None:
        raise NotFound(f"no ride {ride_id}")
    try:
        done = resume.complete_trip(workflows.sfn(), dynamodb(), ride_id,
                                    odometer_km=completion.odometer_km, battery_pct=completion.battery_pct)
    except resume.NotWaiting as exc:
        raise Conflict(str(exc)) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return json_response(200, Resumed(id=done.id, execution_arn=done.execution_arn, sent=done.sent))
