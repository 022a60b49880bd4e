"""StopExecution as AWS answers it: the caller's `error` and `cause` reach the ExecutionAborted
event (moto drops them), an execution waiting for a task token ends at once (moto leaves the wait
to run out its TimeoutSeconds, so the execution stayed RUNNING), and the answer carries the stop
date (moto's is empty until the execution's thread has ended)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.design import executions
from workflows.local.adapter.seam import Seam

STOP_WAIT_S = 5.0  # how long StopExecution waits for the execution's thread to end


def _stopped_as_aws_does(_stop_execution: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(_stop_execution)
    def stop_execution(response: Any) -> Any:
        arn = response._get_param("executionArn")
        execution = response.stepfunction_backend.describe_execution(arn)  # ExecutionDoesNotExist, InvalidArn
        stop_date = bound.clock.utcnow()
        if execution.exec_status is not None and execution.exec_status.value == "RUNNING":
            execution.stop(stop_date=stop_date, error=response._get_param("error"), cause=response._get_param("cause"))
            executions.interrupt_waits(arn)
            executions.wait_for_execution_end(arn, STOP_WAIT_S)
        return ActionResult({"stopDate": execution.stop_date or stop_date})

    return stop_execution


SEAM = Seam(__name__, "StopExecution keeps error and cause, ends token waits, answers its date",
            corrects="moto 5.2.5 drops StopExecution's error and cause and leaves a task-token wait running")
SEAM.wrap(StepFunctionResponse, "stop_execution", _stopped_as_aws_does)
