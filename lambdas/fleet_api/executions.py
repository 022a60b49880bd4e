"""/executions: an execution's status; and how the routes that start one answer (202 while it runs,
its outcome with ?wait)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from fleet_api import examples
from fleet_api.app import app, json_response
from fleet_api.errors import ApiError, NotFound
from fleet_api.redact import redacted
from fleet_api.schemas import INVALID, NOT_FOUND, Accepted, response
from fleet_domain.control import workflows
from fleet_domain.models.base import DomainModel

router = Router()


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


@router.get("/executions/<execution_id>", tags=["executions"], summary="An execution: status, input, output or error, states visited",
            responses={200: response("the execution", ExecutionStatus), **NOT_FOUND, **INVALID})
def get_execution(execution_id: Annotated[str, Path(max_length=2048, examples=[examples.REGISTER_ARN.rsplit(":", 1)[-1]],
                                                    description="the execution's name or ARN")]) -> ExecutionStatus:
    try:
        view = workflows.describe(workflows.execution_arn_for(execution_id))
    except KeyError:
        raise NotFound(f"no execution {execution_id}") from None
    # A Lambda error's stack trace (in the cause, or in an error a Catch put into the output) is
    # for operators, not clients: the console and the function's logs have it.
    shown = view.as_dict()
    shown.update({k: redacted(shown[k]) for k in ("input", "output", "cause")})
    return ExecutionStatus(**shown)


def execution_link(execution_arn: str) -> str:
    return f"/executions/{execution_arn.rsplit(':', 1)[-1]}"


# A wait ends this long before the function's own timeout, so that the answer (202 while the
# execution runs) leaves in time: the last describe, the states visited and the response fit in it.
ANSWER_MARGIN_S = 3.0


def wait_budget(requested: float) -> float:
    """The seconds `?wait` may really wait: what was asked, capped below the time this invocation
    has left (the function's timeout equals API Gateway's 29 s, so `?wait=29` would otherwise
    run out the function and answer 502 instead of 202)."""
    context = app.lambda_context
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else float(requested)
    return max(0.0, min(float(requested), remaining - ANSWER_MARGIN_S))


def follow(execution_arn: str, wait: int | None, body: Accepted, current: bool = False) -> Response[Any]:
    """202 while running; with ?wait, the outcome once the execution ends within the wait.
    `current` (a replayed request): without ?wait too, the execution's status as it is now."""
    if not wait and not current:
        return json_response(202, body)
    view = workflows.wait(execution_arn, wait_budget(wait or 0))
    body.status = view.status
    if view.status == "RUNNING":
        return json_response(202, body)
    if view.status == "SUCCEEDED":
        body.outcome, body.output = (view.output or {}).get("outcome"), view.output
        return json_response(200, body)
    raise ApiError(f"the workflow did not complete: {view.error or view.status}",
                   [{"execution_arn": view.execution_arn}], status=502)
