"""FleetApi: the REST API behind API Gateway (Lambda proxy integration). Starts and resumes the
workflows; every route is a few lines over fleet_domain.

Errors are `{"message", "details"?, "request_id"}`: 422 invalid input (with the fields at fault),
404 unknown id, 409 illegal transition or conflicting retry. No stack traces, no 5xx for bad input.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from fleet_domain import idempotency, orchestration, repositories, resume
from fleet_domain.api_errors import ApiError, Conflict, Invalid, NotFound, error_body
from fleet_domain.dispatch import RideRequest
from fleet_domain.dlq import DeadLetterQueue
from fleet_domain.idempotency import once
from fleet_domain.maintenance_repository import MaintenanceJob, MaintenanceJobRepository
from fleet_domain.models import Car, CarEvent, CarRegistration, CarStatus, DomainModel
from fleet_domain.observability import lambda_handler, logger, metrics
from fleet_domain.registration import car_id_for
from fleet_domain.repositories import CarHistoryRepository, CarRepository
from fleet_domain.ride_repository import Ride, RideRepository


class _PerInvocationResolver(APIGatewayRestResolver):
    """The resolver keeps the request it is serving on itself (current_event, lambda_context,
    context): right for a Lambda sandbox, which serves one request at a time, wrong for the local
    runtime, which serves concurrent invocations from one process. Here that state is per thread,
    so concurrent requests never read each other's headers or request ids."""

    _invocation = threading.local()

    current_event = property(lambda self: getattr(self._invocation, "current_event", None),
                             lambda self, value: setattr(self._invocation, "current_event", value))
    lambda_context = property(lambda self: getattr(self._invocation, "lambda_context", None),
                              lambda self, value: setattr(self._invocation, "lambda_context", value))

    @property
    def context(self) -> dict:
        if getattr(self._invocation, "context", None) is None:
            self._invocation.context = {}
        return self._invocation.context

    @context.setter
    def context(self, value: dict) -> None:
        self._invocation.context = value

    def resolve(self, event: dict, context: Any) -> dict:
        # Powertools stores the request on its base class (process-wide); keep ours per thread.
        self._invocation.current_event = self._to_proxy_event(event)
        self._invocation.lambda_context = context
        unsupported = _unsupported_media_type(event)
        return unsupported or super().resolve(event, context)


def _unsupported_media_type(event: dict) -> dict | None:
    """Every body this API takes is JSON: any other content type is 415 before Powertools tries to
    parse it (its form and multipart parsers fail on bodies that are not what they claim)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if not event.get("body") or content_type in ("", "application/json"):
        return None
    body = error_body(f"unsupported content type {content_type!r}: send application/json",
                      (event.get("requestContext") or {}).get("requestId") or "")
    return {"statusCode": 415, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body),
            "isBase64Encoded": False}


def _json_body(body: str) -> Any:
    """json.loads, with what it cannot parse (a number past Python's digit limit, nesting past the
    recursion limit) reported as the decode error it is, so Powertools answers 422, not 500."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(f"unparseable JSON ({type(exc).__name__})", body[:100], 0) from None


app = _PerInvocationResolver(enable_validation=True, json_body_deserializer=_json_body)
app.enable_swagger(path="/docs", title="Car fleet API", version="1.0.0",
                   description="Starts and resumes the car fleet's Step Functions workflows.")

MAX_WAIT_S = 29  # API Gateway's integration timeout
WaitSeconds = Annotated[int | None, Query(ge=0, le=MAX_WAIT_S, description="seconds to wait for the result (<= 29)")]


class Links(DomainModel):
    execution: str
    car: str | None = None
    ride: str | None = None
    job: str | None = None


class Accepted(DomainModel):
    execution_arn: str
    status: str
    links: Links | None = None


class CarAccepted(Accepted):
    car_id: str
    outcome: str | None = None
    output: Any | None = None


class CarView(DomainModel):
    car: Car
    history: list[CarEvent]


class CarList(DomainModel):
    cars: list[Car]


class ExecutionStatus(DomainModel):
    execution_arn: str
    name: str
    workflow: str
    status: str
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start_date: str
    stop_date: str | None = None
    states: list[str]


class Health(DomainModel):
    status: str


class ErrorBody(DomainModel):
    message: str
    details: list[dict[str, Any]] | None = None
    request_id: str


def _model(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


INVALID = {422: _model("invalid request: the fields at fault in details", ErrorBody)}
NOT_FOUND = {404: _model("no such resource", ErrorBody)}
CONFLICT = {409: _model("illegal transition or conflicting retry", ErrorBody)}
NOT_COMPLETED = {502: _model("the workflow failed operationally (with ?wait); it is in the DLQ", ErrorBody)}


# --- errors ------------------------------------------------------------------------------


def _execution_link(execution_arn: str) -> str:
    return f"/executions/{execution_arn.rsplit(':', 1)[-1]}"


def _request_id() -> str:
    return app.current_event.request_context.request_id or ""


@app.exception_handler(RequestValidationError)
def _invalid(exc: RequestValidationError):
    details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:] or e.get("loc", ())), "problem": e.get("msg", "")}
               for e in exc.errors()]
    return _error(Invalid("request is not valid", details))


@app.exception_handler(ApiError)
def _api_error(exc: ApiError):
    return _error(exc)


@app.not_found
def _no_route(_exc: NotFoundError):
    return _error(NotFound(f"no route {app.current_event.http_method} {app.current_event.path}"))


@app.exception_handler(Exception)
def _unexpected(exc: Exception):
    logger.exception("unexpected error")
    return Response(500, "application/json", error_body("internal error", _request_id()))


def _error(exc: ApiError):
    return Response(exc.status, "application/json", error_body(exc.message, _request_id(), exc.details))


def _json(status: int, body: BaseModel | dict[str, Any]):
    payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return Response(status, "application/json", payload)


# --- cars --------------------------------------------------------------------------------


@app.post("/cars", summary="Register a car (starts the register workflow)",
          responses={202: _model("started", CarAccepted), 201: _model("registered (with ?wait)", CarAccepted),
                     200: _model("finished with another outcome (with ?wait)", CarAccepted),
                     **CONFLICT, **INVALID, **NOT_COMPLETED})
def register_car(car: CarRegistration, wait: WaitSeconds = None):
    request = car.model_dump(mode="json", exclude={"correlation_id"})
    car_id = car_id_for(car.vin)

    def start() -> dict[str, Any]:
        started = orchestration.start(orchestration.REGISTER, request, correlation_id=_request_id())
        metrics.add_metric(name="RegistrationsStarted" if started.new else "RegistrationsDeduplicated",
                           unit=MetricUnit.Count, value=1)
        return {"car_id": car_id, "execution_arn": started.execution_arn}

    started = once(_idempotency_key(), "register", request, start)
    links = Links(car=f"/cars/{car_id}", execution=_execution_link(started["execution_arn"]))
    if wait:
        view = orchestration.wait(started["execution_arn"], wait)
        return _registration_answer(view, car_id, links)
    return _json(202, CarAccepted(car_id=car_id, execution_arn=started["execution_arn"], status="RUNNING", links=links))


def _registration_answer(view: orchestration.ExecutionView, car_id: str, links: Links):
    body = CarAccepted(car_id=car_id, execution_arn=view.execution_arn, status=view.status, links=links)
    if view.status == "RUNNING":
        return _json(202, body)
    if view.status == "SUCCEEDED":
        outcome = (view.output or {}).get("outcome")
        body.outcome, body.output = outcome, view.output
        if outcome == "CarAlreadyRegistered":
            raise Conflict(f"car {car_id} is already registered", [{"outcome": outcome}])
        return _json(201 if outcome == "CarRegistered" else 200, body)
    if view.error == "CarValidationError":
        raise Invalid(view.cause or "invalid car", [{"error": view.error}])
    raise ApiError(f"registration did not complete: {view.error or view.status}",
                   [{"execution_arn": view.execution_arn}], status=502)


@app.get("/cars", summary="List cars, optionally by status", responses={200: _model("the cars", CarList), **INVALID})
def list_cars(status: Annotated[CarStatus | None, Query()] = None) -> CarList:
    repo = CarRepository()
    statuses = [status] if status else list(CarStatus)
    cars = [car for s in statuses for car in repo.list_by_status(s)]
    return CarList(cars=sorted(cars, key=lambda c: c.car_id))


@app.get("/cars/<car_id>", summary="A car's record and recent history", responses={200: _model("the car", CarView), **NOT_FOUND, **INVALID})
def get_car(car_id: Annotated[str, Path(max_length=64)]) -> CarView:
    car = CarRepository().get(car_id)
    if car is None:
        raise NotFound(f"no car {car_id}")
    return CarView(car=car, history=CarHistoryRepository().history(car_id)[-20:])


# --- rides -------------------------------------------------------------------------------


class RideAccepted(Accepted):
    ride_id: str
    outcome: str | None = None
    output: Any | None = None


class TripCompletion(DomainModel):
    model_config = ConfigDict(extra="forbid")

    odometer_km: Annotated[int, Field(ge=0, le=10000000)] | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None


class Resumed(DomainModel):
    id: str
    execution_arn: str | None = None
    sent: dict[str, Any]


def _follow(execution_arn: str, wait: int | None, body: Accepted) -> Response:
    """202 while running; with ?wait, the outcome once the execution ends within the wait."""
    if not wait:
        return _json(202, body)
    view = orchestration.wait(execution_arn, wait)
    body.status = view.status
    if view.status == "RUNNING":
        return _json(202, body)
    if view.status == "SUCCEEDED":
        if hasattr(body, "outcome"):
            body.outcome, body.output = (view.output or {}).get("outcome"), view.output
        return _json(200, body)
    raise ApiError(f"the workflow did not complete: {view.error or view.status}",
                   [{"execution_arn": view.execution_arn}], status=502)


@app.post("/rides", summary="Request a ride (starts the dispatch workflow)",
          responses={202: _model("started (or still waiting for its trip, with ?wait)", RideAccepted),
                     200: _model("finished (with ?wait), e.g. NoCarAvailable", RideAccepted),
                     **INVALID, **NOT_COMPLETED})
def request_ride(ride: RideRequest, wait: WaitSeconds = None):
    request = ride.model_dump(mode="json", exclude={"correlation_id"})

    def start() -> dict[str, Any]:
        started = orchestration.start(orchestration.DISPATCH, request, correlation_id=_request_id())
        return {"execution_arn": started.execution_arn}

    started = once(_idempotency_key(), "dispatch", request, start)
    links = Links(ride=f"/rides/{ride.ride_id}", execution=_execution_link(started["execution_arn"]))
    return _follow(started["execution_arn"], wait,
                   RideAccepted(ride_id=ride.ride_id, execution_arn=started["execution_arn"], status="RUNNING", links=links))


@app.get("/rides/<ride_id>", summary="A ride: status, car, route, trip",
         responses={200: _model("the ride", Ride), **NOT_FOUND, **INVALID})
def get_ride(ride_id: Annotated[str, Path(max_length=64)]) -> Ride:
    ride = RideRepository().get(ride_id)
    if ride is None:
        raise NotFound(f"no ride {ride_id}")
    return ride.model_copy(update={"task_token": None})  # the token is the workflow's, not the client's


@app.post("/rides/<ride_id>/complete", summary="Report the end of a ride's trip (resumes the dispatch)",
          responses={200: _model("the trip's end was handed to the workflow", Resumed), **NOT_FOUND, **CONFLICT,
                     **INVALID})
def complete_ride(ride_id: Annotated[str, Path(max_length=64)], completion: TripCompletion | None = None):
    completion = completion or TripCompletion()
    if RideRepository().get(ride_id) is None:
        raise NotFound(f"no ride {ride_id}")
    try:
        done = resume.complete_trip(orchestration.sfn(), repositories.dynamodb(), ride_id,
                                    odometer_km=completion.odometer_km, battery_pct=completion.battery_pct)
    except resume.NotWaiting as exc:
        raise Conflict(str(exc)) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return _json(200, Resumed(id=done.id, execution_arn=done.execution_arn, sent=done.sent))


# --- maintenance -------------------------------------------------------------------------


class MaintenanceOrder(DomainModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=200)]


class JobAccepted(Accepted):
    job_id: str
    car_id: str
    outcome: str | None = None
    output: Any | None = None


class SignOffRequest(DomainModel):
    model_config = ConfigDict(extra="forbid")

    technician: Annotated[str, Field(min_length=1, max_length=100)]
    passed: bool
    notes: Annotated[str, Field(max_length=2000)] = ""


@app.post("/cars/<car_id>/maintenance", summary="Send a car to maintenance (starts the maintenance workflow)",
          responses={202: _model("started", JobAccepted), 200: _model("finished (with ?wait)", JobAccepted),
                     **NOT_FOUND, **INVALID, **NOT_COMPLETED})
def send_to_maintenance(car_id: Annotated[str, Path(max_length=64)], order: MaintenanceOrder, wait: WaitSeconds = None):
    if CarRepository().get(car_id) is None:
        raise NotFound(f"no car {car_id}")
    request = {"car_id": car_id, "reason": order.reason}

    def start() -> dict[str, Any]:
        return {"execution_arn": orchestration.start(orchestration.MAINTENANCE, request, _request_id()).execution_arn}

    started = once(_idempotency_key(), "maintenance", request, start)
    job_id = started["execution_arn"].rsplit(":", 1)[-1]  # the job is named after its execution
    links = Links(car=f"/cars/{car_id}", job=f"/maintenance/{job_id}", execution=_execution_link(started["execution_arn"]))
    return _follow(started["execution_arn"], wait, JobAccepted(job_id=job_id, car_id=car_id,
                                                              execution_arn=started["execution_arn"],
                                                              status="RUNNING", links=links))


@app.get("/maintenance/<job_id>", summary="A maintenance job: checks, parts, technician, sign-off",
         responses={200: _model("the job", MaintenanceJob), **NOT_FOUND, **INVALID})
def get_job(job_id: Annotated[str, Path(max_length=128)]) -> MaintenanceJob:
    job = MaintenanceJobRepository().get(job_id)
    if job is None:
        raise NotFound(f"no maintenance job {job_id}")
    return job.model_copy(update={"task_token": None})


@app.post("/maintenance/<job_id>/sign-off", summary="The technician's sign-off (resumes the maintenance)",
          responses={200: _model("the sign-off was handed to the workflow", Resumed), **NOT_FOUND, **CONFLICT,
                     **INVALID})
def sign_off(job_id: Annotated[str, Path(max_length=128)], signed: SignOffRequest):
    if MaintenanceJobRepository().get(job_id) is None:
        raise NotFound(f"no maintenance job {job_id}")
    try:
        done = resume.sign_off(orchestration.sfn(), repositories.dynamodb(), job_id, signed.passed, signed.notes,
                               technician=signed.technician)
    except resume.NotWaiting as exc:
        raise Conflict(str(exc)) from None
    return _json(200, Resumed(id=done.id, execution_arn=done.execution_arn, sent=done.sent))


# --- executions --------------------------------------------------------------------------


@app.get("/executions/<execution_id>", summary="An execution: status, input, output or error, states visited",
         responses={200: _model("the execution", ExecutionStatus), **NOT_FOUND, **INVALID})
def get_execution(execution_id: Annotated[str, Path(max_length=2048)]) -> ExecutionStatus:
    try:
        view = orchestration.describe(orchestration.execution_arn_for(execution_id))
    except KeyError:
        raise NotFound(f"no execution {execution_id}") from None
    return ExecutionStatus(**view.as_dict())


# --- operators: the dead-letter queue ------------------------------------------------------


class DeadLetterSummary(DomainModel):
    id: str
    execution_arn: str
    workflow: str
    failed_state: str | None = None
    error: str | None = None
    age_s: float


class DeadLetters(DomainModel):
    messages: list[DeadLetterSummary]


class RedriveAll(DomainModel):
    model_config = ConfigDict(extra="forbid")

    all: Literal[True]
    dry_run: bool = False


class RedriveSome(DomainModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(min_length=1, max_length=100)
    dry_run: bool = False


class RedriveOutcome(DomainModel):
    id: str
    execution_arn: str | None = None
    started: bool
    deleted: bool
    dry_run: bool
    error: str | None = None


class RedriveReport(DomainModel):
    results: list[RedriveOutcome]


def _dlq() -> DeadLetterQueue:
    return DeadLetterQueue(orchestration.sqs(), os.environ["DLQ_URL"])


@app.get("/dlq", summary="Operational failures waiting in the DLQ",
         responses={200: _model("the messages, oldest first", DeadLetters), **INVALID})
def list_dead_letters() -> DeadLetters:
    return DeadLetters(messages=[DeadLetterSummary(**x.summary()) for x in _dlq().list()])


@app.post("/dlq/redrive", summary="Restart failed executions from their original input",
          responses={200: _model("what was started", RedriveReport), **INVALID})
def redrive(request: Annotated[RedriveAll | RedriveSome, Body()]) -> RedriveReport:
    ids = request.ids if isinstance(request, RedriveSome) else None
    results = _dlq().redrive(orchestration.sfn(), ids, dry_run=request.dry_run)
    return RedriveReport(results=[RedriveOutcome(**r.as_dict()) for r in results])


# --- service -----------------------------------------------------------------------------


@app.get("/openapi.json", include_in_schema=False)
def openapi():
    return Response(200, "application/json", app.get_openapi_json_schema(title="Car fleet API", version="1.0.0"))


@app.get("/health", summary="Liveness")
def health() -> Health:
    return Health(status="ok")


def _idempotency_key() -> str | None:
    key = app.current_event.get_header_value("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 128):
        raise Invalid("Idempotency-Key must be 1 to 128 characters", [{"field": "Idempotency-Key"}])
    return key


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: Any) -> dict:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
