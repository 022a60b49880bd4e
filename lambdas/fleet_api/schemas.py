"""The API's shared answer shapes and the OpenAPI responses the routes declare."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict

from fleet_domain.models.base import DomainModel

MAX_WAIT_S = 29  # API Gateway's integration timeout
WaitSeconds = Annotated[int | None, Query(ge=0, le=MAX_WAIT_S, description="seconds to wait for the result (<= 29)",
                                          examples=[20])]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=128, examples=["3f0c9a52-6d1e-4c8e-9a57-2b1f0e7d4c11"],
    description="Any string of 1 to 128 characters the client chooses per operation (a UUID, say). A retry with "
                "the same key and body gets the first answer back for 24 hours; the same key with another body is "
                "refused (422). Without it, a retry still starts no second execution.")]
MAX_PAGE = 100
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"items per page (1 to {MAX_PAGE})", examples=[25])]
NextToken = Annotated[str | None, Query(min_length=1, max_length=1024, examples=["eyJzIjoiQVZBSUxBQkxFIn0"],
                                        description="the `next_token` of the previous page, to get the next one")]


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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "message": "request is not valid", "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "details": [{"field": "vin", "problem": "String should match pattern '^[A-HJ-NPR-Z0-9]{17}$'"}]}]})

    message: str
    details: list[dict[str, Any]] | None = None
    request_id: str


def response(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


Responses = dict[int, OpenAPIResponse]
UNREADABLE: Responses = {400: response("the body is not JSON: where it stops being JSON in the message and details",
                                       ErrorBody)}
INVALID: Responses = {422: response("invalid request: the fields at fault in details", ErrorBody)}
NOT_FOUND: Responses = {404: response("no such resource", ErrorBody)}
CONFLICT: Responses = {409: response("illegal transition or conflicting retry", ErrorBody)}
NOT_COMPLETED: Responses = {502: response("the workflow failed operationally (with ?wait); it is in the DLQ", ErrorBody)}
