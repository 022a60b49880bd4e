"""A mocked error (MockConfigFile.json `Throw`) of a DynamoDB task keeps its name, as in Step
Functions Local: moto's DynamoDB integration renames every error that is not a ClientError to
DynamoDB.AmazonDynamoDBException, the mocked failure included."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_dynamodb

from workflows.local.adapter.seam import Seam


def _mocked_error_kept(from_error: Callable[[Any, Any, Exception], Any]) -> Callable[[Any, Any, Exception], Any]:
    @functools.wraps(from_error)
    def run(task: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, FailureEventException):  # a mocked Throw: already the failure, with its name
            return ex.failure_event
        return from_error(task, env, ex)

    return run


SEAM = Seam(__name__, "a mocked DynamoDB task error keeps its name",
            corrects="moto 5.2.5's DynamoDB integration renames a mocked Throw to DynamoDB.AmazonDynamoDBException")
SEAM.wrap(state_task_service_dynamodb.StateTaskServiceDynamoDB, "_from_error", _mocked_error_kept)
