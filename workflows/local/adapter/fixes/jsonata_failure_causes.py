"""Two JSONata-state failures as AWS reports them:

- a Map state whose input (no `Items`) is not an array: the cause shows the value as JSON
  ("Map state input must be an array but was: {"foo":"bar"}"); moto shows its Python type
  ("... but was: <class 'dict'>");
- a Wait state whose JSONata `Timestamp` is not an ISO-8601 date-time: AWS's
  `States.QueryEvaluationError` with an `EvaluationFailed` event ("The Timestamp field cannot be
  parsed as an ISO-8601 extended offset date-time format string: <value>"); moto fails the
  execution with `States.Runtime` and a JSONPath-style cause.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from workflows.local.adapter.seam import Seam

_NOT_AN_ARRAY = "Map state input must be an array but was: <class "


def _map_failure_event(env: Any, error_name: Any, event_type: Any, event_details: Any = None) -> FailureEvent:
    """moto's FailureEvent, as the Map state module builds it, with the input's value in the cause."""
    details = (event_details or {}).get("evaluationFailedEventDetails")
    if details and str(details.get("cause", "")).startswith(_NOT_AN_ARRAY):
        value = to_json_str(env.states.get_input(), separators=(",", ":"))
        details["cause"] = f"Map state input must be an array but was: {value}"
    return FailureEvent(env=env, error_name=error_name, event_type=event_type, event_details=event_details)


def _timestamp_failure(create: Callable[[Any, Any, str], FailureEvent]) -> Callable[[Any, Any, str], FailureEvent]:
    @functools.wraps(create)
    def run(wait: Any, env: Any, timestamp_str: str) -> FailureEvent:
        if not isinstance(wait.string, StringJSONata):
            return create(wait, env, timestamp_str)
        name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
        cause = f"The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {timestamp_str}"
        event = FailureEvent(env=env, error_name=name, event_type=HistoryEventType.EvaluationFailed,
                             event_details=EventDetails(evaluationFailedEventDetails=EvaluationFailedEventDetails(  # type: ignore[typeddict-item]
                                 error=name.error_name, cause=cause)))
        recorded = FailureEventException(failure_event=event).get_evaluation_failed_event_details()
        env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.EvaluationFailed,
                                    event_details=EventDetails(evaluationFailedEventDetails=recorded))  # type: ignore[typeddict-item]
        return event

    return run


SEAM = Seam(__name__, "JSONata Map-input and Wait-Timestamp failures worded and named as AWS's",
            corrects="moto 5.2.5 shows a Python type for a non-array Map input, States.Runtime for a bad JSONata Timestamp")
SEAM.replace(state_map, "FailureEvent", _map_failure_event)
SEAM.wrap(timestamp.Timestamp, "_create_failure_event", _timestamp_failure)
