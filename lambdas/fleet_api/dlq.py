"""/dlq: operational failures waiting in the dead-letter queue, and their redrive (for operators)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field

from fleet_api import examples, pages
from fleet_api.executions import wait_budget
from fleet_api.schemas import INVALID, UNREADABLE, NextToken, PageLimit, response
from fleet_domain.control import workflows
from fleet_domain.control.dlq import DeadLetterQueue
from fleet_domain.models.base import DomainModel
from fleet_domain.platform.settings import settings

router = Router()

# Redrives start while this much of the invocation is left (less ANSWER_MARGIN_S): a redrive of
# many messages answers with what it did and how many remain, instead of running out the function
# (API Gateway's 502, the messages it held hidden from the next listing).
REDRIVE_BUDGET_S = 20.0


class DeadLetterSummary(DomainModel):
    id: str
    execution_arn: str
    workflow: str
    failed_state: str | None = None
    error: str | None = None
    age_s: float


class DeadLetters(DomainModel):
    messages: list[DeadLetterSummary]
    next_token: str | None = Field(None, description="pass it as ?next_token= for the next page; absent on the last")


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
    remaining: int = Field(0, description="messages chosen but not reached before this call's time ran out: "
                                          "still in the DLQ; call again to redrive them")


def _dlq() -> DeadLetterQueue:
    return DeadLetterQueue(workflows.sqs(), settings().required("dlq_url"))


@router.get("/dlq", tags=["dlq"], summary="Operational failures waiting in the DLQ",
            responses={200: response("a page of the messages, oldest first", DeadLetters), **INVALID})
def list_dead_letters(limit: PageLimit = 50, next_token: NextToken = None) -> DeadLetters:
    letters = sorted(_dlq().list(), key=lambda x: (x.sent_at_ms, x.message_id))  # oldest first
    if next_token:
        start = pages.decode(next_token, "dlq", None)
        if not isinstance(start.get("sent"), int) or not isinstance(start.get("id"), str):
            raise pages.not_ours()
        letters = [x for x in letters if (x.sent_at_ms, x.message_id) > (start["sent"], start["id"])]
    page = letters[:limit]
    token = pages.encode("dlq", None, {"sent": page[-1].sent_at_ms, "id": page[-1].message_id}) \
        if len(letters) > limit else None
    return DeadLetters(messages=[DeadLetterSummary(**x.summary()) for x in page], next_token=token)


@router.post("/dlq/redrive", tags=["dlq"], summary="Restart failed executions from their original input",
             responses={200: response("what was started", RedriveReport), **UNREADABLE, **INVALID})
def redrive(request: Annotated[RedriveAll | RedriveSome, Body(openapi_examples=examples.REDRIVE_EXAMPLES)]) -> RedriveReport:
    ids = request.ids if isinstance(request, RedriveSome) else None
    done = _dlq().redrive(workflows.sfn(), ids, dry_run=request.dry_run, budget_s=wait_budget(REDRIVE_BUDGET_S))
    return RedriveReport(results=[RedriveOutcome(**r.as_dict()) for r in done.results], remaining=done.remaining)
