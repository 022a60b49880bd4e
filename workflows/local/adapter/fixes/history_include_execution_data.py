"""GetExecutionHistory honours includeExecutionData=false: the same events without their inputs
and outputs (what an operator without access to the data may read). moto ignores the flag."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse

from workflows.local.adapter.seam import Seam

EXECUTION_DATA = ("input", "output", "inputDetails", "outputDetails")


def without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    return {k: {f: v for f, v in d.items() if f not in EXECUTION_DATA} if k.endswith("EventDetails") and isinstance(d, dict)
            else d for k, d in event.items()}


def _honour_include_execution_data(get_history: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(get_history)
    def run(response: Any) -> Any:
        answer = get_history(response)
        if response._get_param("includeExecutionData") is False and isinstance(answer, ActionResult):
            history: Any = answer.result
            return ActionResult({**history, "events": [without_execution_data(e) for e in history["events"]]})
        return answer

    return run


SEAM = Seam(__name__, "GetExecutionHistory leaves inputs and outputs out when asked",
            corrects="moto 5.2.5 ignores GetExecutionHistory's includeExecutionData")
SEAM.wrap(StepFunctionResponse, "get_execution_history", _honour_include_execution_data)
