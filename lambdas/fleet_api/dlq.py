"""/dlq: operational failures of the workflows, their redrive and the queue's sweep (for operators).
Read from the Failures table (each workflow's RecordFailure writes it as SendToDLQ sends the message)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field

from fleet_api import examples, pages
from fleet_api.executions import wait_budget
from fleet_api.schemas import INVALID, UNREADABLE, NextToken, PageLimit, response
from fleet_domain.control import workflows
from fleet_domain.control.dlq import DeadLetterQueue, summary
from fleet_domain.data.failures import FailureRepository
from fleet_domain.models.base import DomainModel
from fleet_domain.platform.settings import settings

router = Router()

# Redrives start while this much of the invocation is left (less ANSWER_MARGIN_S): a redrive of
# many failures answers with what it did and how many remain, instead of running out the function
# (API Gateway's 502). The rest of the invocation deletes the redriven failures' messages.
REDRIVE_BUDGET_S = 20.0


class DeadLetterSummary(DomainModel):
    id: str = Field(description="the failure's id: SHA-1 hex of the failed execution's ARN")
    execution_arn: str
    workflow: str
    failed_state: str | None = None
    error: str | None = None
    status: Literal["open", "redriving"] = Field(description="redriving: claimed by a redrive (listed until it is done)")
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
    remaining: int = Field(description="failures not reached before the call's time ran out: still open, "
                                       "redrive again for them")


class SweepReport(DomainModel):
    deleted: int = Field(description="queue messages of failures already redriven, deleted")
    recorded: int = Field(description="queue messages without their failure, recorded (now listed)")
    kept: int = Field(description="queue messages of failures still open")


def _dlq() -> DeadLetterQueue:
    return DeadLetterQueue(workflows.sqs(), settings().required("dlq_url"),
                           FailureRepository(failures_table=settings().required("failures_table")))


@router.get("/dlq", tags=["dlq"], summary="Operational failures not yet redriven",
            responses={200: response("a page of the failures, oldest first", DeadLetters), **INVALID})
def list_dead_letters(limit: PageLimit = 50, next_token: NextToken = None) -> DeadLetters:
    failures = _dlq().list()  # oldest first: (failed_at, failure_id)
    if next_token:
        start = pages.decode(next_token, "dlq", None)
        if not isinstance(start.get("at"), str) or not isinstance(start.get("id"), str):
            raise pages.not_ours()
        failures = [f for f in failures if (f.failed_at, f.failure_id) > (start["at"], start["id"])]
    page = failures[:limit]
    token = pages.encode("dlq", None, {"at": page[-1].failed_at, "id": page[-1].failure_id}) \
        if len(failures) > limit else None
    return DeadLetters(messages=[DeadLetterSummary(**summary(f)) for f in page], next_token=token)


@router.post("/dlq/redrive", tags=["dlq"], summary="Restart failed executions from their original input",
             responses={200: response("what was started, and how many are left for another call", RedriveReport),
                        **UNREADABLE, **INVALID})
def redrive(request: Annotated[RedriveAll | RedriveSome, Body(openapi_examples=examples.REDRIVE_EXAMPLES)]) -> RedriveReport:
    ids = request.ids if isinstance(request, RedriveSome) else None
    done = _dlq().redrive(workflows.sfn(), ids, dry_run=request.dry_run, budget_s=wait_budget(REDRIVE_BUDGET_S))
    return RedriveReport(results=[RedriveOutcome(**r.as_dict()) for r in done.results], remaining=done.remaining)


@router.post("/dlq/sweep", tags=["dlq"], summary="Delete the queue's messages of redriven failures; record any without one",
             responses={200: response("what the sweep did", SweepReport)})
def sweep() -> SweepReport:
    done = _dlq().sweep(budget_s=wait_budget(REDRIVE_BUDGET_S))
    return SweepReport(deleted=done.deleted, recorded=done.recorded, kept=done.kept)
