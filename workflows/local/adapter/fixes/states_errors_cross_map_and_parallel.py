"""A `States.*` error that ends a Map iteration or a Parallel branch keeps its name in the Map or
Parallel state, as on AWS: a `States.Timeout` inside a branch is caught by the Parallel's
`Catch [States.Timeout]` (or `States.ALL`), and the execution fails with it when nothing catches it.
moto rebuilds the error as a custom error name there, which refuses the `States.` prefix with a
ValueError, so the state failed with `States.Runtime` ("Custom Error Names MUST NOT begin with the
prefix 'States.'") and no Catch for the real error ran. A States.Runtime or States.QueryEvaluationError
that comes out of an iteration keeps the cause it was given inside it ("An error occurred while
executing the state 'X' ..."), not that cause wrapped once more in the Map's name."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    ILLEGAL_CUSTOM_ERROR_PREFIX,
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

from workflows.local.adapter.seam import Seam


def error_name(error_name: str | None) -> ErrorName:
    """The error a child execution ended with, as the parent state's error: `States.*` ones as such."""
    if error_name is not None and error_name.startswith(ILLEGAL_CUSTOM_ERROR_PREFIX):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            pass  # a States.* name the language does not define: kept as it is, unvalidated
        named = ErrorName.__new__(CustomErrorName)
        ErrorName.__init__(named, error_name=error_name)
        return named
    return CustomErrorName(error_name=error_name)


_DECORATED = "An error occurred while executing the state '"


def _cause_kept_once_decorated(details_of: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(details_of)
    def run(failure: Any) -> Any:
        pair = failure.extract_error_cause_pair()
        details = details_of(failure)
        if pair is not None and details is not None and isinstance(pair[1], str) and pair[1].startswith(_DECORATED):
            details["cause"] = pair[1]
        return details

    return run


SEAM = Seam(__name__, "a States.* error leaving a Map iteration or Parallel branch keeps its name",
            corrects="moto 5.2.5 turns it into States.Runtime (a custom error name may not start with States.)")
SEAM.replace(iteration_worker, "CustomErrorName", error_name)
SEAM.replace(branches_decl, "CustomErrorName", error_name)
SEAM.wrap(FailureEventException, "get_execution_failed_event_details", _cause_kept_once_decorated)
