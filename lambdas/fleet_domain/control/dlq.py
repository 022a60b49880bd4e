"""The dead-letter queue: list, show and redrive operational failures. Shared by `fleet dlq` and
the API's `/dlq` routes.

Each message is what a workflow's SendToDLQ state wrote: the failed execution, its workflow,
the failed state, error, cause and the original input.

Redrive resumes the failed execution itself with Step Functions' RedriveExecution when nothing
caught its failure (it ended in the state that failed: it resumes there, its history kept).
Otherwise it restarts the workflow from the original input under a name derived from the failed
execution, so redriving the same message twice starts nothing new. A message is deleted only
after its new execution has started (or is found already started), so a crash between the two
loses nothing: the next redrive finds the execution and deletes the message then. A redriven
execution that fails again sends its own message, with its own name.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fleet_domain.control.executions import start_execution

# How long listed messages stay hidden from other readers while we hold them: we release them
# at once, so this only matters when the reader dies holding them.
_HOLD_S = 30


@dataclass
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: dict[str, Any]
    sent_at_ms: int
    receive_count: int

    @property
    def execution_arn(self) -> str:
        return str(self.body.get("execution_arn", ""))

    @property
    def workflow(self) -> str:
        return str(self.body.get("workflow", ""))

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.sent_at_ms / 1000)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "execution_arn": self.execution_arn,
            "workflow": self.workflow,
            "failed_state": self.body.get("failed_state"),
            "error": self.body.get("error"),
            "age_s": round(self.age_s, 1),
        }

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "cause": self.body.get("cause"), "input": self.body.get("input"),
                "failed_at": self.body.get("failed_at"), "receive_count": self.receive_count,
                "redrive_name": redrive_name(self)}


_REDRIVABLE = {"FAILED", "TIMED_OUT", "ABORTED"}


def _resumable(sfn: Any, letter: DeadLetter) -> bool:
    """The failed execution ended in the state that failed (nothing caught the failure), so Step
    Functions' RedriveExecution resumes it there, keeping its history. A failure a Catch sent here
    ended the execution in another state: that one is restarted from its input."""
    failed_state = letter.body.get("failed_state")
    if not letter.execution_arn or not failed_state:
        return False
    try:
        if sfn.describe_execution(executionArn=letter.execution_arn).get("status") not in _REDRIVABLE:
            return False
        events = sfn.get_execution_history(executionArn=letter.execution_arn, maxResults=1000)["events"]
    except Exception:  # noqa: BLE001 - gone, or a target without it: restart instead
        return False
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    last = entered[-1] if entered else None
    return bool(last == failed_state)


def redrive_name(letter: DeadLetter) -> str:
    """The execution name a redrive of this failure uses: the same every time."""
    digest = hashlib.sha256(letter.execution_arn.encode()).hexdigest()[:24]
    return f"{letter.workflow or 'workflow'}-redrive-{digest}"


@dataclass
class RedriveResult:
    id: str
    execution_arn: str | None
    started: bool  # False: it had already been started by an earlier redrive
    deleted: bool
    dry_run: bool = False
    error: str | None = None
    redriven: bool = False  # resumed in place with RedriveExecution, not restarted under a new name

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Redrive:
    results: list[RedriveResult]
    remaining: int  # chosen messages not reached before the budget ran out: still in the queue


@dataclass
class DeadLetterQueue:
    sqs: Any
    queue_url: str
    held: list[DeadLetter] = field(default_factory=list)

    def _receive_all(self, limit: int) -> list[DeadLetter]:
        letters: dict[str, DeadLetter] = {}
        while len(letters) < limit:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=_HOLD_S, WaitTimeSeconds=0,
                AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            ).get("Messages", [])
            if not messages:
                break
            for m in messages:
                try:
                    body = json.loads(m["Body"])
                except ValueError:
                    body = {"unreadable_body": m["Body"]}
                attrs = m.get("Attributes", {})
                letters[m["MessageId"]] = DeadLetter(m["MessageId"], m["ReceiptHandle"], body if isinstance(body, dict) else {"body": body},
                                                     int(attrs.get("SentTimestamp", 0)), int(attrs.get("ApproximateReceiveCount", 1)))
        self.held = list(letters.values())
        return self.held

    def _release(self, letters: Iterable[DeadLetter]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": x.receipt_handle, "VisibilityTimeout": 0} for i, x in enumerate(letters)]
        for start in range(0, len(entries), 10):
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries[start:start + 10])

    def list(self, limit: int = 1000) -> list[DeadLetter]:
        """Every message, oldest first, left in the queue (read, then made visible again)."""
        letters = self._receive_all(limit)
        self._release(letters)
        return sorted(letters, key=lambda x: x.sent_at_ms)

    def show(self, message_id: str) -> DeadLetter:
        for letter in self.list():
            if letter.message_id == message_id:
                return letter
        raise KeyError(message_id)

    def redrive(self, sfn: Any, ids: builtins.list[str] | None = None, dry_run: bool = False,
                state_machine_arns: dict[str, str] | None = None, budget_s: float | None = None) -> Redrive:
        """Redrive the given messages (all when ids is None). With a budget (a caller that has a
        timeout, like the API's function), no new redrive starts once it is spent: the rest go back
        on the queue at once and are counted as remaining, for the next call."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        letters = self._receive_all(1000)
        wanted = set(ids) if ids is not None else None
        chosen = [x for x in letters if wanted is None or x.message_id in wanted]
        results: builtins.list[RedriveResult] = []
        try:
            for letter in chosen:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                results.append(self._redrive_one(sfn, letter, dry_run, state_machine_arns or {}))
        finally:
            # Whatever was not deleted goes back on the queue at once.
            done = {r.id for r in results if r.deleted}
            self._release(x for x in letters if x.message_id not in done)
        missing: set[str] = (wanted or set()) - {x.message_id for x in letters}
        results += [RedriveResult(m, None, False, False, dry_run, "no such message in the DLQ") for m in sorted(missing)]
        return Redrive(results, remaining=len(chosen) - sum(1 for r in results if r.error != "no such message in the DLQ"))

    def _redrive_one(self, sfn: Any, letter: DeadLetter, dry_run: bool, arns: dict[str, str]) -> RedriveResult:
        machine = letter.body.get("state_machine_arn") or arns.get(letter.workflow)
        payload = letter.body.get("input")
        if not machine or not isinstance(payload, dict):
            return RedriveResult(letter.message_id, None, False, False, dry_run,
                                 "message lacks the state machine or the original input; left in the DLQ")
        if not dry_run and _resumable(sfn, letter):
            sfn.redrive_execution(executionArn=letter.execution_arn)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=letter.receipt_handle)
            return RedriveResult(letter.message_id, letter.execution_arn, True, True, redriven=True)
        name = redrive_name(letter)
        if dry_run:
            arn = machine.replace(":stateMachine:", ":execution:") + f":{name}"
            return RedriveResult(letter.message_id, arn, False, False, dry_run=True)
        started = start_execution(sfn, machine, name, payload)
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=letter.receipt_handle)
        return RedriveResult(letter.message_id, started.execution_arn, started.new, True)
