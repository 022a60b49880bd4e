"""The engine reads time from the local clock (DESIGN.md principle 6), so a virtual clock runs
an hour of waiting in milliseconds and traces show the durations the clock measured:
- retry backoff (`retrier_decl.time.sleep`) and Wait states sleep on it;
- timed waits inside the engine (task TimeoutSeconds, `.waitForTaskToken` timeouts and
  heartbeats) are `threading.Event`s made in `execute_state` and `callback`: they become
  ClockEvents, whose timed wait is measured on the clock;
- history event timestamps, and execution start and stop dates (DescribeExecution), come from
  it, so an execution's duration agrees with its history."""

from __future__ import annotations

import datetime as dt_module
import types
from datetime import datetime
from typing import Any

from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval.callback import callback
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser.backend import execution as backend_execution

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam
from workflows.local.clock import ClockEvent


def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    clock = bound.clock
    if clock.virtual:
        clock.sleep(wait_seconds)
        return
    deadline = clock.now() + wait_seconds
    while env.is_running() and clock.now() < deadline:
        clock.wait(env.program_state_event, deadline - clock.now())


def _timestamp() -> datetime:
    return bound.clock.utcnow()


class _ClockDatetime(datetime):
    """datetime whose now() reads the local clock (for moto modules that call datetime.now)."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        moment = bound.clock.utcnow()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


_CLOCK_DATETIME_MODULE = types.SimpleNamespace(**{**vars(dt_module), "datetime": _ClockDatetime})

SEAM = Seam(__name__, "waits, retries, timeouts and timestamps on the local clock")
SEAM.replace(retrier_decl, "time", types.SimpleNamespace(sleep=lambda seconds: bound.clock.sleep(seconds)))
SEAM.replace(wait_function.WaitFunction, "_wait_interval", _wait_interval)
SEAM.replace(execute_state, "threading", types.SimpleNamespace(Event=ClockEvent))
SEAM.replace(callback, "Event", ClockEvent)
SEAM.replace(event_manager.EventManager, "_get_current_timestamp", staticmethod(_timestamp))
SEAM.replace(parser_models, "datetime", _CLOCK_DATETIME_MODULE)
SEAM.replace(backend_execution, "datetime", _CLOCK_DATETIME_MODULE)
