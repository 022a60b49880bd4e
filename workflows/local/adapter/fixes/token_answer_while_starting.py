"""A task token answered while another execution is starting is answered, not a 500. moto finds
a token's execution by asking every execution's evaluation environment; an execution that has
just been started has its worker but not yet its environment (the worker's thread creates it), so
SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat and the map-run operations raised
AttributeError under load. Such an execution can hold no token or map run yet: it is skipped."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from workflows.local.adapter.seam import Seam


def _started_only(get_executions: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    @functools.wraps(get_executions)
    def _get_executions(backend: Any, execution_status: Any = None) -> list[Any]:
        return [e for e in get_executions(backend, execution_status)
                if getattr(getattr(e, "exec_worker", None), "env", None) is not None]

    return _get_executions


SEAM = Seam(__name__, "a token answered while an execution is starting is answered",
            corrects="moto 5.2.5 raises AttributeError in SendTask*/DescribeMapRun/UpdateMapRun when any "
                     "execution has a worker without its evaluation environment yet")
SEAM.wrap(StepFunctionsParserBackend, "_get_executions", _started_only)
