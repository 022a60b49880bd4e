"""The API's shared answer shapes and the OpenAPI responses the routes declare."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from fleet_domain.models.base import DomainModel

MAX_WAIT_S = 29  # API Gateway's integration timeout
WaitSeconds = Annotated[int | None, Query(ge=0, le=MAX_WAIT_S, description="seconds to wait for the result (<= 29)")]


class Links(DomainModel):
    execution: str
    car: str | None = None
    ride: str | None = None
    job: str | None = None


class Accepted(DomainModel):
    """A workflow started: 202 while it runs; with ?wait, its outcome and output once it ends."""

    execution_arn: str
    status: str
    links: Links | None = None
    outcome: str | None = None
    output: Any | None = None


class Resumed(DomainModel):
    id: str
    execution_arn: str | None = None
    sent: dict[str, Any]


class ErrorBody(DomainModel):
    message: str
    details: list[dict[str, Any]] | None = None
    request_id: str


def response(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


Responses = dict[int, OpenAPIResponse]
INVALID: Responses = {422: response("invalid request: the fields at fault in details", ErrorBody)}
NOT_FOUND: Responses = {404: response("no such resource", ErrorBody)}
CONFLICT: Responses = {409: response("illegal transition or conflicting retry", ErrorBody)}
NOT_COMPLETED: Responses = {502: response("the workflow failed operationally (with ?wait); it is in the DLQ", ErrorBody)}
