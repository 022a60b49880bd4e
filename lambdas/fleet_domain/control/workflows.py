"""Starting and following the fleet's workflows from the REST API.

The state machine ARNs come from the function's environment (set from the catalog), so the same
code drives the local cloud and AWS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from fleet_domain.control.executions import Started, execution_name, start_execution
from fleet_domain.platform import clients
from fleet_domain.platform.settings import settings

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass(frozen=True)
class Workflow:
    name: str  # register | dispatch | maintenance: also the execution-name prefix
    setting: str  # the setting that holds its state machine ARN (platform/settings.py)
    business_key: str

    @property
    def state_machine_arn(self) -> str:
        return settings().required(self.setting, f"the {self.name} workflow is not deployed with this API")


REGISTER = Workflow("register", "register_car_state_machine_arn", "vin")
DISPATCH = Workflow("dispatch", "dispatch_car_state_machine_arn", "ride_id")
MAINTENANCE = Workflow("maintenance", "maintain_car_state_machine_arn", "car_id")
WORKFLOWS = {w.name: w for w in (REGISTER, DISPATCH, MAINTENANCE)}

def sfn() -> Any:
    return clients.client("stepfunctions")


def sqs() -> Any:
    return clients.client("sqs")


def start(workflow: Workflow, request: dict[str, Any], correlation_id: str | None = None,
          per_request: str = "") -> Started:
    """Start `workflow` for `request`, idempotently: the execution name derives from the request
    itself (not the correlation id), so a client's retry maps onto the first execution.

    `per_request` (the caller's Idempotency-Key, else the request id) makes the name unique per
    request instead: the same request body again is a new execution (a car serviced again for the
    same reason), while a retry with the same key still maps onto the first one."""
    name = execution_name(workflow.name, workflow.business_key, request, salt=f"#{per_request}" if per_request else "")
    payload = {**request, "correlation_id": correlation_id} if correlation_id else request
    return start_execution(sfn(), workflow.state_machine_arn, name, payload)


@dataclass(frozen=True)
class ExecutionView:
    execution_arn: str
    name: str
    workflow: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    start_date: str
    stop_date: str | None
    states: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def execution_arn_for(execution_id: str) -> str:
    """An execution ARN, or a name whose `<workflow>-` prefix says which state machine ran it."""
    if execution_id.startswith("arn:"):
        return execution_id
    workflow = WORKFLOWS.get(execution_id.split("-", 1)[0])
    if workflow is None:
        raise KeyError(execution_id)
    return workflow.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{execution_id}"


def describe(execution_arn: str, with_states: bool = True) -> ExecutionView:
    """Raises KeyError when there is no such execution."""
    client = sfn()
    try:
        desc = client.describe_execution(executionArn=execution_arn)
    except (client.exceptions.ExecutionDoesNotExist, client.exceptions.InvalidArn):
        raise KeyError(execution_arn) from None
    states = states_visited(execution_arn) if with_states else []
    stop = desc.get("stopDate")
    return ExecutionView(
        execution_arn=execution_arn,
        name=desc["name"],
        workflow=desc["name"].split("-", 1)[0],
        status=desc["status"],
        input=_json(desc.get("input")),
        output=_json(desc.get("output")),
        error=desc.get("error"),
        cause=desc.get("cause"),
        start_date=desc["startDate"].isoformat(),
        stop_date=stop.isoformat() if stop else None,
        states=states,
    )


def states_visited(execution_arn: str) -> list[str]:
    names = []
    for page in sfn().get_paginator("get_execution_history").paginate(executionArn=execution_arn,
                                                                     includeExecutionData=False):
        for event in page["events"]:
            if event["type"].endswith("StateEntered"):
                names.append(event["stateEnteredEventDetails"]["name"])
    return names


def wait(execution_arn: str, seconds: float) -> ExecutionView:
    """Follow an execution for up to `seconds` (the caller's ?wait=N); returns where it got to."""
    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        view = describe(execution_arn, with_states=False)
        if view.status in TERMINAL or time.monotonic() >= deadline:
            return describe(execution_arn)
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.25)


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
