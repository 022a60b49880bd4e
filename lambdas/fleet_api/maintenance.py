"""/cars/<car_id>/maintenance and /maintenance: send a car to maintenance (the maintenance
workflow), a job, and the technician's sign-off."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import ConfigDict, Field

from fleet_api import examples
from fleet_api.app import json_response, request_id
from fleet_api.errors import Conflict, NotFound
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
from fleet_domain.data.cars import CarRepository
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.models.base import DomainModel
from fleet_domain.models.maintenance import MaintenanceJob

router = Router()


class MaintenanceOrder(DomainModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=200)]


class JobAccepted(Accepted):
    job_id: str
    car_id: str


class SignOffRequest(DomainModel):
    model_config = ConfigDict(extra="forbid")

    technician: Annotated[str, Field(min_length=1, max_length=100)]
    passed: bool
    notes: Annotated[str, Field(max_length=2000)] = ""


@router.post("/cars/<car_id>/maintenance", tags=["maintenance"], summary="Send a car to maintenance (starts the maintenance workflow)",
             responses={202: response("started", JobAccepted), 200: response("finished (with ?wait)", JobAccepted),
                        **UNREADABLE, **NOT_FOUND, **INVALID, **NOT_COMPLETED})
def send_to_maintenance(car_id: Annotated[str, Path(max_length=64, examples=[examples.CAR_ID])],
                        order: Annotated[MaintenanceOrder, Body(openapi_examples=examples.MAINTENANCE_EXAMPLES)],
                        wait: WaitSeconds = None, idempotency_key: IdempotencyKey = None) -> Response[Any]:
    if CarRepository().get(car_id) is None:
        raise NotFound(f"no car {car_id}")
    request = {"car_id": car_id, "reason": order.reason}
    # A job per request: the Idempotency-Key when given (a retry with it replays this job), else
    # the request id, so the same car can be serviced again for the same reason.
    per_request = f"key:{idempotency_key}" if idempotency_key else f"request:{request_id() or uuid.uuid4()}"
    replayed = True

    def start() -> dict[str, Any]:
        nonlocal replayed
        started = workflows.start(workflows.MAINTENANCE, request, request_id(), per_request=per_request)
        replayed = not started.new
        return {"execution_arn": started.execution_arn}

    started = once(idempotency_key, "maintenance", request, start)
    job_id = started["execution_arn"].rsplit(":", 1)[-1]  # the job is named after its execution
    links = Links(car=f"/cars/{car_id}", job=f"/maintenance/{job_id}", execution=execution_link(started["execution_arn"]))
    body = JobAccepted(job_id=job_id, car_id=car_id, execution_arn=started["execution_arn"], status="RUNNING",
                       links=links)
    # A replay answers with where the execution it replays really is (it may have ended long ago).
    return follow(started["execution_arn"], wait, body, current=replayed)


@router.get("/maintenance/<job_id>", tags=["maintenance"], summary="A maintenance job: checks, parts, technician, sign-off",
            responses={200: response("the job", MaintenanceJob), **NOT_FOUND, **INVALID})
def get_job(job_id: Annotated[str, Path(max_length=128, examples=[examples.JOB_ID])]) -> MaintenanceJob:
    job = MaintenanceJobRepository().get(job_id)
    if job is None:
        raise NotFound(f"no maintenance job {job_id}")
    return job.model_copy(update={"task_token": None})


@router.post("/maintenance/<job_id>/sign-off", tags=["maintenance"], summary="The technician's sign-off (resumes the maintenance)",
             responses={200: response("the sign-off was handed to the workflow", Resumed), **UNREADABLE, **NOT_FOUND,
                        **CONFLICT, **INVALID})
def sign_off(job_id: Annotated[str, Path(max_length=128, examples=[examples.JOB_ID])],
             signed: Annotated[SignOffRequest, Body(openapi_examples=examples.SIGN_OFF_EXAMPLES)]) -> Response[Any]:
    if MaintenanceJobRepository().get(job_id) is None:
        raise NotFound(f"no maintenance job {job_id}")
    try:
        done = resume.sign_off(workflows.sfn(), dynamodb(), job_id, signed.passed, signed.notes,
                               technician=signed.technician)
    except resume.NotWaiting as exc:
        raise Conflict(str(exc)) from None
    return json_response(200, Resumed(id=done.id, execution_arn=done.execution_arn, sent=done.sent))
