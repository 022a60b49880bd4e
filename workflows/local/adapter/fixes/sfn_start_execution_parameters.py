"""`arn:aws:states:::states:startExecution`: moto passes the ASL's PascalCase parameters
(StateMachineArn, Name, Input) to boto3's camelCase API and fails with States.Runtime; they are
normalised to the operation's shapes both ways, as AWS (and LocalStack) do."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import botocore.session
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

from workflows.local.adapter.seam import Seam

_Sfn = state_task_service_sfn.StateTaskServiceSfn


def _operation(task: Any) -> Any:
    action = task.resource.api_action
    return botocore.session.get_session().get_service_model("stepfunctions").operation_model(action[0].upper() + action[1:])


def _parameters_to_boto(normalise: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(normalise)
    def run(task: Any, parameters: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
        normalise(task, parameters, boto_service_name, service_action_name)
        if service_action_name is None:
            task._to_boto_request(parameters, _operation(task).input_shape)

    return run


def _response_from_boto(normalise: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(normalise)
    def run(task: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
        normalise(task, response, boto_service_name, service_action_name)
        if service_action_name is None and isinstance(response, dict):
            task._from_boto_response(response, _operation(task).output_shape)

    return run


SEAM = Seam(__name__, "states:startExecution takes and answers the ASL's PascalCase fields",
            corrects="moto 5.2.5 hands PascalCase StartExecution parameters to boto3 unconverted (States.Runtime)")
SEAM.wrap(_Sfn, "_normalise_parameters", _parameters_to_boto)
SEAM.wrap(_Sfn, "_normalise_response", _response_from_boto)
