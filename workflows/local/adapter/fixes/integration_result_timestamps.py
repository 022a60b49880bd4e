"""A service integration's result is JSON on AWS: the timestamps in an SDK answer (startExecution's
StartDate, a secret's CreatedDate, ...) are numbers there. moto keeps boto3's `datetime` objects in
the state's output, which no JSON encoder takes: the next DescribeExecution of the execution failed
(SerializationException over HTTP, a TypeError in process) and so did the execution's events.

Here they become epoch milliseconds, as Step Functions writes the dates of the optimised `states:`
integration's results."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_sfn,
)

from workflows.local.adapter.seam import Seam


def as_json(value: Any) -> Any:
    """The value with every datetime as epoch milliseconds (other values as they are)."""
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
        return int(moment.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def _json_result(eval_service_task: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(eval_service_task)
    def run(task: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        eval_service_task(task, env, *args, **kwargs)
        if env.stack:
            env.stack[-1] = as_json(env.stack[-1])

    return run


SEAM = Seam(__name__, "timestamps in integration results are JSON numbers (epoch milliseconds)",
            corrects="moto 5.2.5 leaves datetime objects in states:startExecution and aws-sdk results")
SEAM.wrap(state_task_service_sfn.StateTaskServiceSfn, "_eval_service_task", _json_result)
SEAM.wrap(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "_eval_service_task", _json_result)
