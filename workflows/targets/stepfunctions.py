"""Start, wait for and describe executions on any target: the local cloud in this process,
`fleet up` at an endpoint, Step Functions Local, or AWS. Only public Step Functions APIs."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from fleet_domain.control import executions
from workflows.definitions.catalog import StateMachine
from workflows.trace.model import StateVisit, json_or_text, visits_from_history

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
# What Step Functions refuses in an execution name (besides a length outside 1 to 80): whitespace,
# brackets, wildcards, these specials, and control characters.
_NAME_REFUSED = re.compile(r'[\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]')


def name_problem(name: str) -> str | None:
    """Why Step Functions would refuse this execution name, or None: said before anything starts."""
    if not 1 <= len(name) <= 80:
        return f"an execution name is 1 to 80 characters, got {len(name)}"
    bad = _NAME_REFUSED.search(name)
    if bad:
        return f"an execution name may not contain {bad.group()!r}"
    return None


def execution_name(sm: StateMachine, payload: dict[str, Any], test_case: str | None = None) -> str:
    """The name a request's execution gets (see fleet_domain.control.executions). A test case's run of the
    same request is another execution, so the test case is part of the name's hash."""
    return executions.execution_name(sm.workflow, sm.business_key, payload, salt=f"#{test_case}" if test_case else "")


def start(sfn: Any, sm: StateMachine, name: str, payload: dict[str, Any], test_case: str | None = None,
          arn: str | None = None) -> executions.Started:
    """Start `sm` idempotently on any target (its ARN found by name unless given, as a deployed
    stack gives it). With a test case, on `<stateMachineArn>#<TestCase>`: the convention Step
    Functions Local and the local cloud share for mocked service integrations
    (statemachines/MockConfigFile.json); the execution's ARN is the state machine's as usual."""
    arn = arn or state_machine_arn(sfn, sm)
    if not test_case:
        return executions.start_execution(sfn, arn, name, payload)
    try:
        response = sfn.start_execution(stateMachineArn=f"{arn}#{test_case}", name=name, input=json.dumps(payload))
        return executions.Started(response["executionArn"], new=True)
    except sfn.exceptions.ExecutionAlreadyExists:
        return executions.Started(executions.execution_arn(arn, name), new=False)


def wait_for_execution(sfn: Any, execution_arn: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """DescribeExecution until the execution is terminal; returns the last description."""
    deadline = time.monotonic() + timeout_s
    delay = 0.002
    while True:
        desc: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] in TERMINAL:
            return desc
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_arn} still {desc['status']} after {timeout_s:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


@dataclass
class ExecutionResult:
    execution_arn: str
    status: str
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    visits: list[StateVisit] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def states(self) -> list[str]:
        return [v.name for v in self.visits]

    @property
    def retries(self) -> int:
        return sum(v.retries for v in self.visits)

    @property
    def outcome(self) -> str:
        """SUCCEEDED's named outcome, or the error of a failed execution."""
        if self.status == "SUCCEEDED" and isinstance(self.output, dict):
            return str(self.output.get("outcome", "SUCCEEDED"))
        return self.error or self.status


def describe(sfn: Any, execution_arn: str, desc: dict[str, Any] | None = None) -> ExecutionResult:
    desc = desc or sfn.describe_execution(executionArn=execution_arn)
    events = history(sfn, execution_arn)
    stop = desc.get("stopDate")
    duration = (stop - desc["startDate"]).total_seconds() * 1000 if stop else 0.0
    return ExecutionResult(
        execution_arn=execution_arn,
        status=desc["status"],
        input=json_or_text(desc.get("input")),
        output=json_or_text(desc.get("output")),
        error=desc.get("error"),
        cause=desc.get("cause"),
        visits=visits_from_history(events),
        duration_ms=duration,
    )


def state_machine_arn(sfn: Any, sm: StateMachine) -> str:
    """Find a catalog state machine on any target by its name."""
    for page in sfn.get_paginator("list_state_machines").paginate():
        for item in page["stateMachines"]:
            if item["name"] == sm.name:
                return str(item["stateMachineArn"])
    raise LookupError(f"state machine {sm.name} is not deployed at this endpoint")
