"""An EXPRESS state machine runs as one: moto records the type it was created with (`type`, what
DescribeStateMachine answers) but hands every execution `sm_type = "STANDARD"`, so nothing
downstream can tell an Express execution (no status events, StartSyncExecution) from a Standard one."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions import models as stepfunctions_models
from moto.stepfunctions.parser.api import StateMachineType

from workflows.local.adapter.seam import Seam


def _typed(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def run(state_machine: Any, *args: Any, **kwargs: Any) -> None:
        init(state_machine, *args, **kwargs)
        state_machine.sm_type = StateMachineType(state_machine.type)

    return run


SEAM = Seam(__name__, "an EXPRESS machine's executions are EXPRESS",
            corrects="moto 5.2.5 gives every state machine sm_type STANDARD, whatever its type")
SEAM.wrap(stepfunctions_models.StateMachineInstance, "__init__", _typed)  # machines and their versions
