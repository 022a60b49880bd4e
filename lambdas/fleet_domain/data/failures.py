"""The Failures table: one row per operational failure of a workflow, written by its RecordFailure
state right before SendToDLQ sends the message (the queue still delivers it and alarms on it).

Operators read the rows, never the queue: listing the queue means receiving every message, which
hides them from every other reader while held. A row's life: `open` (recorded) -> `redriving`
(claimed by one redrive, under a lease) -> `redriven` (its new execution started). A claim whose
lease ran out (its redrive was cut off) may be claimed again, and is listed all along.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fleet_domain.data.base import Repository
from fleet_domain.models.base import DomainModel

# A redriven row expires after the queue's retention (catalog: the Dlq's 14 days). An open row has
# no TTL: it stays until it is handled (RecordFailure is JSONPath, for Step Functions Local, and
# JSONPath cannot compute a time as a number).
RETENTION_S = 14 * 24 * 3600
_INDEX = "status-index"


class FailureStatus(StrEnum):
    OPEN = "open"
    REDRIVING = "redriving"
    REDRIVEN = "redriven"


def failure_id(execution_arn: str) -> str:
    """The id RecordFailure gives a failure: SHA-1 hex of the failed execution's ARN (an id, not a
    secret). A name AWS would refuse (a lone surrogate) still gets one, for the sweep to record."""
    return hashlib.sha1(execution_arn.encode("utf-8", "surrogatepass")).hexdigest()


def iso(epoch_s: float) -> str:
    """A time as Step Functions writes it (2026-11-24T18:00:00.123Z), so rows sort as text."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch(timestamp: str | None) -> float:
    try:
        return datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Failure(DomainModel):
    failure_id: str
    execution_arn: str = ""
    execution_name: str | None = None
    state_machine_arn: str | None = None
    workflow: str = ""
    failed_state: str | None = None
    error: str | None = None
    cause: str | None = None
    input: str | None = None  # the execution's input as JSON text
    failed_at: str = ""
    status: FailureStatus = FailureStatus.OPEN
    ttl: int | None = None
    # A redrive's claim: who holds it and until when (epoch seconds).
    claim: str | None = None
    lease_until: float | None = None
    redrive_execution_arn: str | None = None
    redriven_at: str | None = None
    # Recorded by the sweep from a queue message that had no row.
    message_id: str | None = None

    def original_input(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.input or "")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def claimable(self, now: float) -> bool:
        return self.status is FailureStatus.OPEN or (
            self.status is FailureStatus.REDRIVING and (self.lease_until or 0) <= now)

    @property
    def age_s(self) -> float:
        at = epoch(self.failed_at)
        return max(0.0, time.time() - at) if at else 0.0


class FailureRepository(Repository):
    def __init__(self, client: Any = None, failures_table: str | None = None):
        super().__init__(client, failures=failures_table)

    def get(self, failure_id: str) -> Failure | None:
        found = self.read("failures", {"failure_id": failure_id})
        return Failure.model_validate(found) if found else None

    def unresolved(self) -> list[Failure]:
        """Every failure not yet redriven, oldest first: the open ones and those claimed by a
        redrive (shown with their lease, so a redrive that was cut off hides nothing)."""
        rows = [Failure.model_validate(found) for status in (FailureStatus.OPEN, FailureStatus.REDRIVING)
                for found in self.query("failures", IndexName=_INDEX, KeyConditionExpression="#status = :status",
                                        ExpressionAttributeNames={"#status": "status"},
                                        ExpressionAttributeValues={":status": {"S": status.value}})]
        return sorted(rows, key=lambda f: (f.failed_at, f.failure_id))

    def record(self, failure: Failure) -> bool:
        """A failure found in the queue without its row; False when a row exists by now."""
        fields = failure.model_dump(mode="json", exclude_none=True)
        return self.put("failures", fields, ConditionExpression="attribute_not_exists(failure_id)")

    def claim(self, failure_id: str, token: str, now: float, lease_s: float) -> bool:
        """Claim a failure for one redrive: open, or redriving under a lease that ran out."""
        return self.update(
            TableName=self.table("failures"), Key={"failure_id": {"S": failure_id}},
            UpdateExpression="SET #status = :redriving, claim = :token, lease_until = :until",
            ConditionExpression="#status = :open OR (#status = :redriving AND lease_until <= :now)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":redriving": {"S": FailureStatus.REDRIVING.value},
                                       ":open": {"S": FailureStatus.OPEN.value}, ":token": {"S": token},
                                       ":until": {"N": repr(now + lease_s)}, ":now": {"N": repr(now)}})

    def release(self, failure_id: str, token: str) -> bool:
        """Give a claim back (its redrive failed): open again, for the next redrive."""
        return self.update(
            TableName=self.table("failures"), Key={"failure_id": {"S": failure_id}},
            UpdateExpression="SET #status = :open REMOVE claim, lease_until",
            ConditionExpression="#status = :redriving AND claim = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":redriving": {"S": FailureStatus.REDRIVING.value},
                                       ":open": {"S": FailureStatus.OPEN.value}, ":token": {"S": token}})

    def mark_redriven(self, failure_id: str, token: str, execution_arn: str, now: float) -> bool:
        """The claimed failure's new execution started. False when the claim is no longer this
        one's: the redriven execution already failed again and RecordFailure opened the row anew."""
        return self.update(
            TableName=self.table("failures"), Key={"failure_id": {"S": failure_id}},
            UpdateExpression="SET #status = :redriven, redrive_execution_arn = :arn, redriven_at = :at, #ttl = :ttl "
                             "REMOVE claim, lease_until",
            ConditionExpression="#status = :redriving AND claim = :token",
            ExpressionAttributeNames={"#status": "status", "#ttl": "ttl"},
            ExpressionAttributeValues={":redriving": {"S": FailureStatus.REDRIVING.value},
                                       ":redriven": {"S": FailureStatus.REDRIVEN.value}, ":token": {"S": token},
                                       ":arn": {"S": execution_arn}, ":at": {"S": iso(now)},
                                       ":ttl": {"N": str(int(now) + RETENTION_S)}})
