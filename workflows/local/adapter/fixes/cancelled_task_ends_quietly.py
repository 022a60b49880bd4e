"""A task whose branch was cancelled while it ran (a sibling branch of its Parallel failed, a Map
iteration failed, the execution was stopped) ends quietly, as on AWS. moto skips the rest of the
task's evaluation once its environment has ended and then fails on what it skipped (`'dict'
object has no attribute 'region'`), recording a States.Runtime failure for the branch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec import execute_state

from workflows.local.adapter.seam import Seam


def _quiet_when_cancelled(evaluate: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    @functools.wraps(evaluate)
    def run(state: Any, env: Any) -> None:
        try:
            evaluate(state, env)
        except Exception:
            if env.is_running():
                raise

    return run


SEAM = Seam(__name__, "a task cancelled mid-run ends quietly",
            corrects="moto 5.2.5 fails a cancelled task with States.Runtime")
SEAM.wrap(execute_state.ExecutionState, "_evaluate_with_timeout", _quiet_when_cancelled)
