"""A lost heartbeat is `States.HeartbeatTimeout` on AWS (so a Retry or Catch can tell a dead
worker from a slow one); moto reports every task timeout as `States.Timeout`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task
from moto.stepfunctions.parser.asl.eval.callback import callback
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from workflows.local.adapter.seam import Seam


def _heartbeat_timeout_named(from_error: Callable[[Any, Any, Exception], Any]) -> Callable[[Any, Any, Exception], Any]:
    @functools.wraps(from_error)
    def run(task: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, callback.HeartbeatTimeoutError):
            name = StatesErrorNameType.StatesHeartbeatTimeout
            return FailureEvent(env=env, error_name=StatesErrorName(typ=name), event_type=HistoryEventType.TaskTimedOut,
                                event_details=EventDetails(  # type: ignore[typeddict-item]  # moto's TypedDict is total
                                    taskTimedOutEventDetails=TaskTimedOutEventDetails(error=name.to_name())))
        return from_error(task, env, ex)

    return run


SEAM = Seam(__name__, "a lost heartbeat fails the task with States.HeartbeatTimeout",
            corrects="moto 5.2.5 names a heartbeat timeout States.Timeout")
SEAM.wrap(state_task.StateTask, "_from_error", _heartbeat_timeout_named)
