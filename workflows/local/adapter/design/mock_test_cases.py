"""Mocked service integrations (Step Functions Local's MockConfigFile.json, read by
workflows/definitions/mock_config.py): StartExecution on `<stateMachineArn>#<TestCase>` runs that
test case's mocked responses. moto ships the engine half (ExecutionWorker's `mock_test_case`,
read by every Task state) but neither the file loader nor the StartExecution wiring: the
backend's `start_execution` and `Execution._get_start_execution_worker` are wrapped to supply both."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, cast

from moto.stepfunctions.exceptions import InvalidName
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.mocking import mock_config as moto_mocking

from workflows.definitions import mock_config
from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam

_starting = threading.local()  # the test case of the StartExecution running on this thread


def _with_test_case(start_execution: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(start_execution)
    def start(backend: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
              trace_header: Any = None) -> Any:
        base_arn, test_case_name = mock_config.split_arn(state_machine_arn)
        if test_case_name is None:
            return start_execution(backend, state_machine_arn, name, execution_input, trace_header)
        state_machine = backend.describe_state_machine(base_arn)  # StateMachineDoesNotExist, as for any start
        try:
            config = mock_config.MockConfig.load(bound.mock_config)
            test_case = _moto_test_case(config.test_case(state_machine.name, test_case_name))
        except mock_config.MockConfigError as exc:
            raise InvalidName(f"Invalid mock test case {test_case_name!r}: {exc}") from None
        _starting.test_case = test_case
        try:
            return start_execution(backend, base_arn, name, execution_input, trace_header)
        finally:
            _starting.test_case = None

    return start


def _worker_with_test_case(get_worker: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(get_worker)
    def worker_for(execution: Any) -> Any:
        worker = get_worker(execution)
        test_case = getattr(_starting, "test_case", None)
        if test_case is not None:
            worker._mock_test_case = test_case
        return worker

    return worker_for


def _moto_test_case(case: mock_config.MockTestCase) -> Any:
    """Our parsed test case as moto's engine wants it (a Throw's Cause may be absent, as in Step
    Functions Local's files: moto's annotation says str, its engine takes None)."""
    states = []
    for state, (response_name, responses) in case.states.items():
        moto_responses: list[moto_mocking.MockedResponse] = [
            moto_mocking.MockedResponseThrow(r.first, r.last, error=cast(str, r.error), cause=cast(str, r.cause)) if r.throws
            else moto_mocking.MockedResponseReturn(r.first, r.last, payload=r.result)
            for r in responses
        ]
        states.append(moto_mocking.StateMockedResponses(state, response_name, moto_responses))
    return moto_mocking.MockTestCase(case.state_machine, case.name, states)


SEAM = Seam(__name__, "StartExecution on `arn#TestCase` runs that MockConfigFile.json test case")
SEAM.wrap(parser_models.StepFunctionsParserBackend, "start_execution", _with_test_case)
SEAM.wrap(backend_execution.Execution, "_get_start_execution_worker", _worker_with_test_case)
