"""Step Functions publishes an "Execution Status Change" event to the account's default event bus
whenever a Standard workflow's execution changes status (RUNNING, then SUCCEEDED, FAILED,
TIMED_OUT or ABORTED), so rules can react to an execution that ended without its own clean-up
(stopped, timed out, failed outside its Catch). Express workflows emit none. moto publishes
nothing; this publishes AWS's event: source `aws.states`, detail-type
`Step Functions Execution Status Change`, the execution ARN as the one resource, and the detail
DescribeExecution would answer, with dates in epoch milliseconds and the input and output as text
(left out, with `included: false`, past EventBridge's 248 KB)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.events.models import events_backends
from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam

LOG = logging.getLogger(__name__)
SOURCE = "aws.states"
DETAIL_TYPE = "Step Functions Execution Status Change"
_PAYLOAD_LIMIT = 248 * 1024  # escaped input plus output beyond this: the input is left out, then the output


def status_change_detail(execution: Any) -> dict[str, Any]:
    status = execution.exec_status.value if execution.exec_status is not None else "RUNNING"
    succeeded = status == "SUCCEEDED"
    text_input = execution.execution_input  # the input as it was given, as DescribeExecution answers it
    text_output = json.dumps(execution.output, separators=(",", ":")) if succeeded else None
    input_included = len(json.dumps(text_input)) + len(json.dumps(text_output or "")) <= _PAYLOAD_LIMIT
    output_included = text_output is None or len(json.dumps(text_output)) <= _PAYLOAD_LIMIT
    redrivable = status in ("FAILED", "TIMED_OUT", "ABORTED")
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": status,
        "startDate": _epoch_ms(execution.start_date),
        "stopDate": _epoch_ms(execution.stop_date),
        "input": text_input if input_included else None,
        "inputDetails": {"included": input_included},
        "output": text_output if output_included else None,
        "outputDetails": {"included": output_included} if succeeded else None,
        "error": execution.error,
        "cause": execution.cause,
        "redriveCount": getattr(execution, "redrive_count", 0),
        "redriveDate": _epoch_ms(getattr(execution, "redrive_date", None)),
        "redriveStatus": "REDRIVABLE" if redrivable else "NOT_REDRIVABLE",
        "redriveStatusReason": None if redrivable else f"Execution is {status} and cannot be redriven",
    }


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def publish(execution: Any) -> None:
    """The execution's current status, as an event on its account's default bus."""
    if execution.sm_type == StateMachineType.EXPRESS:
        return  # Express workflows do not emit status events
    event = {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Resources": [execution.exec_arn],
             "Detail": json.dumps(status_change_detail(execution), separators=(",", ":")), "Time": bound.clock.now()}
    try:
        events_backends[execution.account_id][execution.region_name].put_events([event])
    except Exception:  # delivery is best effort on AWS too: never fail the execution for it
        LOG.warning("Execution Status Change event for %s not delivered", execution.exec_arn, exc_info=True)


def _publishing_running(start: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(start)
    def run(worker: Any) -> None:
        execution = getattr(worker._execution_communication, "execution", None)
        if execution is not None and execution.exec_status == ExecutionStatus.RUNNING:
            publish(execution)  # before the program runs: RUNNING always comes first
        start(worker)

    return run


def _publishing_end(reflect: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(reflect)
    def run(communication: Any) -> None:
        reflect(communication)
        publish(communication.execution)

    return run


SEAM = Seam(__name__, "every status change of a Standard execution published to the default event bus",
            corrects="moto 5.2.5 publishes no Step Functions Execution Status Change events")
SEAM.wrap(execution_worker.ExecutionWorker, "start", _publishing_running)
SEAM.wrap(backend_execution.BaseExecutionWorkerCommunication, "_reflect_execution_status", _publishing_end)
