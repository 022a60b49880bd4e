"""StartSyncExecution runs an EXPRESS state machine and answers with its result, as on AWS: the
execution runs in the call (moto's engine has a synchronous worker for it), the response holds its
status, output or error and cause, and, with Express semantics, nothing keeps it afterwards (no
DescribeExecution, no history). A STANDARD machine is refused with AWS's
StateMachineTypeNotSupported. moto's API has no such operation (UnknownOperation /
NotImplementedError), so a client calling an Express workflow synchronously could not run locally.
"""

from __future__ import annotations

import copy
import datetime
import json
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions import responses as stepfunctions_responses
from moto.stepfunctions.exceptions import AWSError
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.backend.execution import SyncExecution

from workflows.local.adapter.seam import Seam


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400


class InvalidExecutionInput(AWSError):
    TYPE = "InvalidExecutionInput"
    STATUS = 400


def express_execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:aws:states:<region>:<account>:express:<machine>:<execution>:<id>, AWS's form."""
    base = state_machine_arn.replace(":stateMachine:", ":express:", 1)
    return f"{base}:{name}:{uuid.uuid4()}"


def start_sync_execution(response: Any) -> ActionResult:
    arn = response._get_param("stateMachineArn")
    name = response._get_param("name") or str(uuid.uuid4())
    text = response._get_param("input", if_none="{}")
    backend = response.stepfunction_backend
    machine = backend.describe_state_machine(arn.split("#", 1)[0])  # StateMachineDoesNotExist
    if StateMachineType(machine.type) != StateMachineType.EXPRESS:
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
    try:
        json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from exc
    # The definition as it is now, for this execution (as moto's StartExecution snapshots it).
    snapshot = copy.deepcopy(machine, {id(machine.executions): [], id(machine.backend): machine.backend})
    execution = SyncExecution(
        name=name, sm_type=StateMachineType.EXPRESS, role_arn=machine.roleArn,
        exec_arn=express_execution_arn(machine.arn, name), account_id=backend.account_id,
        region_name=backend.region_name, state_machine=snapshot,
        start_date=datetime.datetime.now(tz=datetime.UTC), cloud_watch_logging_session=None,
        activity_store={}, input_data=text,
    )
    execution.start()  # runs to its end in this call
    answer: dict[str, Any] = dict(execution.to_start_sync_execution_output())
    answer["status"] = str(execution.sync_execution_status.value if execution.sync_execution_status else "FAILED")
    answer["billingDetails"] = {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": _billed_ms(execution)}
    for key in ("traceHeader", "outputDetails", "inputDetails"):
        if answer.get(key) is None:
            answer.pop(key, None)
    return ActionResult(answer)


def _billed_ms(execution: Any) -> int:
    """Express bills by 100 ms, rounded up."""
    if execution.stop_date is None:
        return 100
    ms = (execution.stop_date - execution.start_date).total_seconds() * 1000
    return max(100, int(-(-ms // 100) * 100))


SEAM = Seam(__name__, "StartSyncExecution runs an EXPRESS machine in the call and answers its result",
            corrects="moto 5.2.5 does not implement StartSyncExecution")
SEAM.add(stepfunctions_responses.StepFunctionResponse, "start_sync_execution", start_sync_execution)
