"""RedriveExecution as on AWS: a Standard execution that FAILED, TIMED_OUT or was ABORTED resumes
from the state that did not finish, with the input that state was given, keeping its history (an
`ExecutionRedriven` event, then the state entered again; event ids go on from the old ones), its
ARN, name and input. `$$.Execution.RedriveCount` counts the redrives (0 on a first run: every
Standard execution's context has it, an Express one's not) and DescribeExecution answers `redriveCount` and `redriveDate`.

AWS's rules: only Standard executions; only FAILED, TIMED_OUT or ABORTED; within 14 days of the
stop; at most 1,000 redrives; and only when a state is there to resume from. An execution the local
cloud keeps only as a record (the state store's `EndedExecution`) is rebuilt from that record: its
state machine, input, dates and history. moto 5.2.5 has no such operation.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions import responses as stepfunctions_responses
from moto.stepfunctions.exceptions import AWSError
from moto.stepfunctions.parser.api import (
    ExecutionRedrivenEventDetails,
    ExecutionStatus,
    HistoryEventType,
    StateMachineType,
)
from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam

REDRIVABLE = {ExecutionStatus.FAILED.value, ExecutionStatus.TIMED_OUT.value, ExecutionStatus.ABORTED.value}
MAX_REDRIVES = 1000
REDRIVE_WINDOW = datetime.timedelta(days=14)


class ExecutionNotRedrivable(AWSError):
    TYPE = "ExecutionNotRedrivable"
    STATUS = 400


def resume_point(events: list[dict[str, Any]], top_level_states: set[str]) -> tuple[str, Any] | None:
    """The top-level state the execution was in when it ended, and the input it entered with."""
    for event in reversed(events):
        details = event.get("stateEnteredEventDetails")
        if details and details.get("name") in top_level_states:
            text = details.get("input")
            return details["name"], json.loads(text) if isinstance(text, str) else text
    return None


class RedriveWorker(execution_worker.ExecutionWorker):
    """moto's execution worker, started at `state` with `state_input`, after the old history."""

    def __init__(self, *args: Any, state: str, state_input: Any, history: list[dict[str, Any]], redrive_count: int,
                 redrive_date: datetime.datetime, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._resume_state, self._resume_input = state, state_input
        self._old_history, self._redrive_count, self._redrive_date = history, redrive_count, redrive_date

    def _get_evaluation_entrypoint(self) -> Any:
        definition = json.loads(self._evaluation_details.state_machine_details.definition)
        definition["StartAt"] = self._resume_state
        return AmazonStateLanguageParser.parse(json.dumps(definition))[0]

    def _get_evaluation_environment(self) -> Any:
        """moto's environment (through every seam on it), continuing the old history; the run's
        ExecutionStarted event is its ExecutionRedriven event."""
        env: Any = super()._get_evaluation_environment()
        execution: Any = env.states.context_object.context_object_data["Execution"]
        execution["RedriveCount"] = self._redrive_count
        execution["RedriveTime"] = self._redrive_date.isoformat()
        manager: Any = env.event_manager
        manager._history_event_list.extend(self._old_history)
        last_id = max((int(e["id"]) for e in self._old_history), default=0)
        manager._event_id_gen._next_id = last_id + 1
        env.event_history_context = EventHistoryContext(previous_event_id=last_id)
        env.states.reset(input_value=self._resume_input)
        add_event = manager.add_event

        def redriven_not_started(*, event_type: Any, **kwargs: Any) -> int:
            if event_type == HistoryEventType.ExecutionStarted:
                manager.add_event = add_event  # once: the run's own events follow as usual
                details = EventDetails(executionRedrivenEventDetails=ExecutionRedrivenEventDetails(  # type: ignore[typeddict-item]
                    redriveCount=self._redrive_count))
                return int(add_event(context=kwargs["context"], event_type=HistoryEventType.ExecutionRedriven,
                                     event_details=details))
            return int(add_event(event_type=event_type, **kwargs))

        manager.add_event = redriven_not_started
        return env


def _live_machine(backend: Any, execution: Any) -> Any:
    return backend.describe_state_machine(execution.state_machine_arn)


def _history_of(execution: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = execution.to_history_output()["events"]
    return [dict(e) for e in events]


def redrive_execution(response: Any) -> ActionResult:
    arn = response._get_param("executionArn")
    backend = response.stepfunction_backend
    old = backend.describe_execution(arn)  # ExecutionDoesNotExist
    machine = old.state_machine
    refuse = f"Execution with arn {arn} cannot be redriven"
    if StateMachineType(getattr(machine, "type", "STANDARD")) == StateMachineType.EXPRESS:
        raise ExecutionNotRedrivable(f"{refuse}: Express executions cannot be redriven")
    status = old.status
    if status not in REDRIVABLE:
        raise ExecutionNotRedrivable(f"{refuse}: its status is {status}; only FAILED, TIMED_OUT or ABORTED can be")
    now = bound.clock.utcnow()
    if old.stop_date is not None and now - _aware(old.stop_date) > REDRIVE_WINDOW:
        raise ExecutionNotRedrivable(f"{refuse}: it stopped more than 14 days ago")
    count = int(getattr(old, "redrive_count", 0)) + 1
    if count > MAX_REDRIVES:
        raise ExecutionNotRedrivable(f"{refuse}: it was redriven {MAX_REDRIVES} times")
    history = _history_of(old)
    point = resume_point(history, set(json.loads(machine.definition)["States"]))
    if point is None:
        raise ExecutionNotRedrivable(f"{refuse}: it ended before entering a state")
    execution = backend_execution.Execution(
        name=old.name, sm_type=StateMachineType.STANDARD, role_arn=old.role_arn, exec_arn=arn,
        account_id=backend.account_id, region_name=backend.region_name, state_machine=machine,
        start_date=old.start_date, cloud_watch_logging_session=None, activity_store={},
        input_data=old.execution_input,
    )
    execution.redrive_count = count  # type: ignore[attr-defined]
    execution.redrive_date = now  # type: ignore[attr-defined]
    worker = RedriveWorker(
        evaluation_details=EvaluationDetails(
            aws_execution_details=execution._get_start_aws_execution_details(),
            execution_details=execution.get_start_execution_details(),
            state_machine_details=execution.get_start_state_machine_details(),
        ),
        exec_comm=execution._get_start_execution_worker_comm(), cloud_watch_logging_session=None, activity_store={},
        state=point[0], state_input=point[1], history=history, redrive_count=count, redrive_date=now,
    )
    executions = _live_machine(backend, old).executions
    executions[executions.index(old)] = execution
    execution.exec_worker = worker
    execution.exec_status = ExecutionStatus.RUNNING
    runner: Any = worker
    runner.start()
    return ActionResult({"redriveDate": now})


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _first_run_counts_zero(environment_of: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(environment_of)
    def run(worker: Any) -> Any:
        env = environment_of(worker)
        if worker._evaluation_details.state_machine_details.typ != StateMachineType.EXPRESS:  # Express: never redriven
            env.states.context_object.context_object_data["Execution"].setdefault("RedriveCount", 0)
        return env

    return run


def _describe_with_redrives(describe: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(describe)
    def run(response: Any) -> Any:
        answer = describe(response)
        if isinstance(answer, ActionResult) and isinstance(answer.result, dict) and "executionArn" in answer.result:
            execution = response.stepfunction_backend.describe_execution(answer.result["executionArn"])
            count = getattr(execution, "redrive_count", 0)
            answer.result["redriveCount"] = count
            if count:
                answer.result["redriveDate"] = execution.redrive_date
        return answer

    return run


SEAM = Seam(__name__, "RedriveExecution resumes a failed Standard execution from its failed state, keeping its history",
            corrects="moto 5.2.5 does not implement RedriveExecution, nor $$.Execution.RedriveCount")
SEAM.add(stepfunctions_responses.StepFunctionResponse, "redrive_execution", redrive_execution)
SEAM.wrap(execution_worker.ExecutionWorker, "_get_evaluation_environment", _first_run_counts_zero)
SEAM.wrap(stepfunctions_responses.StepFunctionResponse, "describe_execution", _describe_with_redrives)
