"""The context object's `$$.Execution.StartTime` is ISO 8601 text on AWS
("2024-05-01T12:00:00.123Z"); moto hands a datetime to the state, so an ASL file copying it into a
DynamoDB item or a message fails locally and works on AWS."""

from __future__ import annotations

import datetime as dt_module
import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.adapter.seam import Seam


def iso_text(moment: datetime) -> str:
    """A timestamp as Step Functions writes it in the context object: UTC, milliseconds, Z."""
    return moment.astimezone(dt_module.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _with_text_start_time(get_environment: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(get_environment)
    def environment(worker: Any) -> Any:
        env = get_environment(worker)
        execution = env.states.context_object.context_object_data["Execution"]
        start = execution.get("StartTime")
        if isinstance(start, datetime):
            execution["StartTime"] = iso_text(start)
        return env

    return environment


SEAM = Seam(__name__, "$$.Execution.StartTime is ISO 8601 text, as on AWS",
            corrects="moto 5.2.5 puts a datetime object in the context object's Execution.StartTime")
SEAM.wrap(execution_worker.ExecutionWorker, "_get_evaluation_environment", _with_text_start_time)
