"""An execution's history holds at most 25,000 events, as on AWS: the execution that would write
its 25,000th event fails instead, with `States.Runtime` and the cause "The execution reached the
maximum number of history events (25000).", and that ExecutionFailed event is event 25,000 (the
24,999th is the last the machine produced). Not catchable by the machine's own Catch. moto has
no limit: a two-state loop filled gigabytes of memory within seconds."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.adapter.seam import Seam

MAX_HISTORY_EVENTS = 25_000
ERROR = "States.Runtime"
CAUSE = f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
_ENDINGS = {HistoryEventType.ExecutionFailed, HistoryEventType.ExecutionSucceeded, HistoryEventType.ExecutionAborted,
            HistoryEventType.ExecutionTimedOut}


def _bounded(add_event: Callable[..., int]) -> Callable[..., int]:
    @functools.wraps(add_event)
    def run(manager: Any, context: Any, event_type: Any, event_details: Any = None, timestamp: Any = None,
            update_source_event_id: bool = True) -> int:
        if getattr(manager, "_history_full", False):
            if event_type not in _ENDINGS:
                return int(manager._event_id_gen._next_id) - 1  # dropped: the execution is failing
            # The execution's end, whatever it was about to be, is the limit's failure.
            event_type = HistoryEventType.ExecutionFailed
            event_details = {"executionFailedEventDetails": _details()}
        elif manager._event_id_gen._next_id >= MAX_HISTORY_EVENTS and event_type not in _ENDINGS:
            manager._history_full = True
            env = getattr(manager, "_fleet_environment", None)
            if env is not None:
                env.set_error(_details())  # the program stops after the state that is running
            return int(manager._event_id_gen._next_id) - 1
        return int(add_event(manager, context, event_type, event_details, timestamp, update_source_event_id))

    return run


def _details() -> ExecutionFailedEventDetails:
    return ExecutionFailedEventDetails(error=ERROR, cause=CAUSE)


def _limit_error_kept(set_error: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """What a state interrupted by the limit fails with afterwards does not replace the limit's error."""

    @functools.wraps(set_error)
    def run(env: Any, error: Any) -> None:
        set_error(env, _details() if getattr(env.event_manager, "_history_full", False) else error)

    return run


def _environment_known_to_its_history(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(make)
    def run(worker: Any) -> Any:
        env = make(worker)
        env.event_manager._fleet_environment = env
        return env

    return run


SEAM = Seam(__name__, "an execution fails at AWS's 25,000 history events",
            corrects="moto 5.2.5 lets an execution's history grow without limit")
SEAM.wrap(EventManager, "add_event", _bounded)
SEAM.wrap(Environment, "set_error", _limit_error_kept)
SEAM.wrap(execution_worker.ExecutionWorker, "_get_evaluation_environment", _environment_known_to_its_history)
