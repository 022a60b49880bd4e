"""GetExecutionHistory and DynamoDB's GetItem, Query and Scan are answered straight as JSON, not
through moto's generic response serialiser, which walks the service model for every attribute of
every event or item: a quarter of `fleet up`'s CPU under load went to history reads (every
GET /executions and trace reads one), and FindCandidates' query of the AVAILABLE cars was the
largest cost of dispatch. The answers are already in the API's shape; what the serialiser also
does is drop absent (None) members and write timestamps as epoch seconds, so that is what this
does. Anything else (bytes of a binary attribute) goes the stock way.
tests/workflows/test_moto_adapter.py checks the answers equal moto's own."""

from __future__ import annotations

import datetime as dt_module
import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb import responses as dynamodb_responses
from moto.stepfunctions.responses import StepFunctionResponse

from workflows.local.adapter.seam import Seam

DYNAMODB_READS = ("get_item", "query", "scan")


def _as_json(answer_type: type) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    def wrap(respond: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(respond)
        def run(response: Any) -> Any:
            answer = respond(response)
            if type(answer) is not answer_type:
                return answer
            assert isinstance(answer, ActionResult)
            try:
                return json.dumps(_without_none(answer.result), default=_epoch_seconds, separators=(",", ":"))
            except TypeError:
                return answer

        return run

    return wrap


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _epoch_seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt_module.UTC)).timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


SEAM = Seam(__name__, "history and DynamoDB reads answered straight as JSON")
SEAM.wrap(StepFunctionResponse, "get_execution_history", _as_json(ActionResult))
for _name in DYNAMODB_READS:
    SEAM.wrap(dynamodb_responses.DynamoHandler, _name, _as_json(dynamodb_responses.DynamoResult))
