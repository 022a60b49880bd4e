"""An execution's output is JSON text on AWS, whatever its type: a state machine whose last state
outputs the string `done` answers `"done"` (quoted) in DescribeExecution. moto passes a string output
through as it is (`done`), so a client's `json.loads(output)` fails on it; other types it encodes."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions import responses as stepfunctions_responses
from moto.stepfunctions.parser.backend.execution import Execution

from workflows.local.adapter.seam import Seam


def _output_as_json_text(describe: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(describe)
    def run(response: Any) -> Any:
        answer = describe(response)
        if isinstance(answer, ActionResult) and isinstance(answer.result, dict) and "output" in answer.result:
            execution = response.stepfunction_backend.describe_execution(answer.result["executionArn"])
            # moto's engine keeps an output as a value (an ended execution kept elsewhere may hold its JSON text)
            if isinstance(execution, Execution) and isinstance(execution.output, str):
                answer.result["output"] = json.dumps(execution.output)
        return answer

    return run


SEAM = Seam(__name__, "DescribeExecution answers a string output as JSON text",
            corrects="moto 5.2.5 answers a string output unquoted (not JSON)")
SEAM.wrap(stepfunctions_responses.StepFunctionResponse, "describe_execution", _output_as_json_text)
