"""Operational failures: list, show, redrive and sweep. Shared by `fleet dlq`, the API's `/dlq`
routes and the console.

Each workflow's RecordFailure state writes a row in the Failures table (fleet_domain/data/failures.py)
right before SendToDLQ sends the same failure to the queue. The view is the table, read with a
Query: every reader sees every failure at once. (Listing the queue meant receiving each message,
which hid it from every other reader while held: concurrent listings saw partial or empty queues.)
The queue stays the delivery mechanism and the alarm; `sweep` keeps the two in step.

Redrive claims a failure first (a conditional update: open, or claimed under a lease that ran
out -> redriving), so two concurrent redrives start each failure once; a redrive cut off after
its claim leaves the failure listed, claimable again once the lease ends. It then resumes the
failed execution itself with Step Functions' RedriveExecution when nothing caught its failure (it
ended in the state that failed: it resumes there, its history kept); otherwise it restarts the
workflow from the original input under a name derived from the failed execution, so a second
start of the same failure starts nothing new. The failure is marked redriven once the execution
has started, and its message is deleted from the queue best-effort (`sweep` deletes what is left).
A redriven execution that fails again records its own failure.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fleet_domain.control.executions import start_execution
from fleet_domain.data.failures import Failure, FailureRepository, FailureStatus, failure_id, iso

# How long messages a sweep reads stay hidden from other readers while it holds them (it
# releases them at once; this only matters when the reader dies holding them).
_HOLD_S = 30
# How long a redrive's claim on one failure lasts: far longer than starting one execution takes.
LEASE_S = 300.0
NO_SUCH_FAILURE = "no such failure"


def summary(failure: Failure) -> dict[str, Any]:
    return {
        "id": failure.failure_id,
        "execution_arn": failure.execution_arn,
        "workflow": failure.workflow,
        "failed_state": failure.failed_state,
        "error": failure.error,
        "status": failure.status.value,
        "age_s": round(failure.age_s, 1),
    }


def detail(failure: Failure) -> dict[str, Any]:
    return {**summary(failure), "cause": failure.cause, "input": failure.original_input(),
            "failed_at": failure.failed_at, "redrive_name": redrive_name(failure),
            "lease_until": failure.lease_until, "redrive_execution_arn": failure.redrive_execution_arn}


_REDRIVABLE = {"FAILED", "TIMED_OUT", "ABORTED"}


def _resumable(sfn: Any, failure: Failure) -> bool:
    """The failed execution ended in the state that failed (nothing caught the failure), so Step
    Functions' RedriveExecution resumes it there, keeping its history. A failure a Catch sent here
    ended the execution in another state: that one is restarted from its input."""
    if not failure.execution_arn or not failure.failed_state:
        return False
    try:
        if sfn.describe_execution(executionArn=failure.execution_arn).get("status") not in _REDRIVABLE:
            return False
        events = sfn.get_execution_history(executionArn=failure.execution_arn, maxResults=1000)["events"]
    except Exception:  # noqa: BLE001 - gone, or a target without it: restart instead
        return False
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    last = entered[-1] if entered else None
    return bool(last == failure.failed_state)


def redrive_name(failure: Failure) -> str:
    """The execution name a redrive of this failure uses: the same every time."""
    digest = hashlib.sha256(failure.execution_arn.encode()).hexdigest()[:24]
    return f"{failure.workflow or 'workflow'}-redrive-{digest}"


@dataclass
class RedriveResult:
    id: str
    execution_arn: str | None
    started: bool  # False: it had already been started by an earlier redrive
    deleted: bool  # its queue message deleted (best-effort; a sweep deletes what is left)
    dry_run: bool = False
    error: str | None = None
    redriven: bool = False  # resumed in place with RedriveExecution, not restarted under a new name

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Redrive:
    results: list[RedriveResult]
    remaining: int  # chosen failures not reached before the budget ran out: still open, for the next call


@dataclass
class Sweep:
    deleted: int  # messages of failures already redriven
    recorded: int  # messages that had no failure row: recorded, so the view shows them
    kept: int  # messages of failures still open or being redriven


@dataclass
class _Message:
    message_id: str
    receipt_handle: str
    body: dict[str, Any]
    sent_at_ms: int

    @property
    def failure_id(self) -> str:
        """The failure it belongs to, derived from its execution as RecordFailure does (the message
        does not carry it: SendToDLQ must not depend on anything that may fail); an unreadable
        message is its own failure."""
        arn = self.body.get("execution_arn")
        return failure_id(arn if isinstance(arn, str) and arn else f"message:{self.message_id}")

    def as_failure(self) -> Failure:
        body = self.body
        payload = body.get("input")

        def text(key: str) -> str | None:
            # A lone surrogate (in a name AWS would refuse) cannot be stored: it becomes "?".
            return _storable(str(body[key])) if body.get(key) is not None else None

        return Failure(failure_id=self.failure_id, execution_arn=text("execution_arn") or "",
                       execution_name=text("execution_name"), state_machine_arn=text("state_machine_arn"),
                       workflow=text("workflow") or "", failed_state=text("failed_state"),
                       error=text("error") or ("UnreadableMessage" if "unreadable_body" in body else None),
                       cause=text("cause") or text("unreadable_body"),
                       input=json.dumps(payload) if payload is not None else None,
                       failed_at=text("failed_at") or iso(self.sent_at_ms / 1000), message_id=self.message_id)


def _storable(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


@dataclass
class DeadLetterQueue:
    sqs: Any
    queue_url: str
    failures: FailureRepository
    clock: Callable[[], float] = field(default=time.time)

    def list(self) -> builtins.list[Failure]:
        """Every failure not yet redriven, oldest first (claimed ones included, with their lease)."""
        return self.failures.unresolved()

    def show(self, failure_id: str) -> Failure:
        found = self.failures.get(failure_id)
        if found is None:
            raise KeyError(failure_id)
        return found

    def redrive(self, sfn: Any, ids: builtins.list[str] | None = None, dry_run: bool = False,
                state_machine_arns: dict[str, str] | None = None, budget_s: float | None = None,
                lease_s: float = LEASE_S) -> Redrive:
        """Redrive the given failures (every unresolved one when ids is None). With a budget (a
        caller that has a timeout, like the API's function), no new redrive starts once it is
        spent: the rest stay open and are counted as remaining, for the next call."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        chosen: builtins.list[Failure | str] = (
            builtins.list(self.list()) if ids is None else [self.failures.get(i) or i for i in ids])
        results: builtins.list[RedriveResult] = []
        done: set[str] = set()
        remaining = 0
        for index, failure in enumerate(chosen):
            if deadline is not None and time.monotonic() >= deadline:
                remaining = len(chosen) - index
                break
            if isinstance(failure, str):
                results.append(RedriveResult(failure, None, False, False, dry_run, NO_SUCH_FAILURE))
                continue
            result, resolved = self._redrive_one(sfn, failure, dry_run, state_machine_arns or {}, lease_s,
                                                 every=ids is None)
            if result is not None:
                results.append(result)
            if resolved:
                done.add(failure.failure_id)
        if done and (deadline is None or time.monotonic() < deadline):
            deleted = self._delete_messages(done)
            for r in results:
                r.deleted = r.id in deleted
        return Redrive(results, remaining)

    def _redrive_one(self, sfn: Any, failure: Failure, dry_run: bool, arns: dict[str, str], lease_s: float,
                     every: bool) -> tuple[RedriveResult | None, bool]:
        """The result (None: another redrive has it, and reports it), and whether the failure is
        now redriven by this call or an earlier one (so its message may go)."""
        fid = failure.failure_id
        if failure.status is FailureStatus.REDRIVEN:
            return RedriveResult(fid, failure.redrive_execution_arn, False, False, dry_run), not dry_run
        machine = failure.state_machine_arn or arns.get(failure.workflow)
        payload = failure.original_input()
        if not machine or payload is None:
            return RedriveResult(fid, None, False, False, dry_run,
                                 "the failure lacks the state machine or the original input; left open"), False
        if dry_run:
            arn = machine.replace(":stateMachine:", ":execution:") + f":{redrive_name(failure)}"
            return RedriveResult(fid, arn, False, False, dry_run=True), False
        token = uuid.uuid4().hex
        if not self.failures.claim(fid, token, self.clock(), lease_s):
            if every:
                return None, False  # another redrive holds it (or just finished it): that one reports it
            now = self.failures.get(fid)
            if now is not None and now.status is FailureStatus.REDRIVEN:
                return RedriveResult(fid, now.redrive_execution_arn, False, False), True
            return RedriveResult(fid, None, False, False, error="another redrive holds it; try again when its lease ends"), False
        try:
            if _resumable(sfn, failure):
                sfn.redrive_execution(executionArn=failure.execution_arn)
                arn, started, redriven = failure.execution_arn, True, True
            else:
                begun = start_execution(sfn, machine, redrive_name(failure), payload)
                arn, started, redriven = begun.execution_arn, begun.new, False
        except BaseException:
            self.failures.release(fid, token)  # open again for the next redrive
            raise
        # Refused when the execution already failed again and RecordFailure opened the row anew:
        # that new failure (and its message) stays.
        marked = self.failures.mark_redriven(fid, token, arn, self.clock())
        return RedriveResult(fid, arn, started, False, redriven=redriven), marked

    def sweep(self, budget_s: float | None = None, limit: int = 1000) -> Sweep:
        """Keep the queue in step with the table: delete the messages of redriven failures, record
        the messages that have no row (sent by an older definition, or RecordFailure failed)."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        messages = self._receive_all(limit)
        deleted = recorded = 0
        handled: set[str] = set()
        try:
            for m in messages:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                row = self.failures.get(m.failure_id)
                if row is None:
                    recorded += self.failures.record(m.as_failure())
                elif row.status is FailureStatus.REDRIVEN:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m.receipt_handle)
                    handled.add(m.message_id)
                    deleted += 1
        finally:
            self._release(m for m in messages if m.message_id not in handled)
        return Sweep(deleted, recorded, len(messages) - deleted)

    def _delete_messages(self, failure_ids: set[str]) -> set[str]:
        """Best-effort: the queue messages of these (just redriven) failures deleted; which were."""
        deleted: set[str] = set()
        messages: builtins.list[_Message] = []
        try:
            messages = self._receive_all(1000)
            for m in messages:
                if m.failure_id in failure_ids:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m.receipt_handle)
                    deleted.add(m.failure_id)
        except Exception:  # noqa: BLE001 - the failures are redriven already; a sweep deletes the rest
            pass
        finally:
            try:
                self._release(m for m in messages if m.failure_id not in deleted)
            except Exception:  # noqa: BLE001 - held messages come back when their hold ends
                pass
        return deleted

    def _receive_all(self, limit: int) -> builtins.list[_Message]:
        messages: dict[str, _Message] = {}
        while len(messages) < limit:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=_HOLD_S, WaitTimeSeconds=0,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not batch:
                break
            for m in batch:
                try:
                    body = json.loads(m["Body"])
                except ValueError:
                    body = {"unreadable_body": m["Body"]}
                messages[m["MessageId"]] = _Message(m["MessageId"], m["ReceiptHandle"],
                                                    body if isinstance(body, dict) else {"body": body},
                                                    int(m.get("Attributes", {}).get("SentTimestamp", 0)))
        return builtins.list(messages.values())

    def _release(self, messages: Iterable[_Message]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0} for i, m in enumerate(messages)]
        for start in range(0, len(entries), 10):
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries[start:start + 10])
