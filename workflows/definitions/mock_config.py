"""Step Functions Local's mock configuration file, `statemachines/MockConfigFile.json`.

One file, two readers: AWS Step Functions Local reads it itself (`SFN_MOCK_CONFIG`), and the local
cloud reads it through this module (`workflows.local.adapter` hands a test case to moto's
engine). Either way a test case runs when an execution is started on `<stateMachineArn>#<TestCase>`.

    {"StateMachines": {"<state machine name>": {"TestCases": {"<TestCase>": {"<State>": "<MockedResponse>"}}}},
     "MockedResponses": {"<MockedResponse>": {"0": {"Return": <task result>},
                                              "1-2": {"Throw": {"Error": "<name>", "Cause": "<text>"}}}}}

A mocked response's keys count the state's attempts: "0" is the first attempt, "1" the first retry;
a range "1-2" covers both. They start at 0 and follow each other without gaps. A Task state not
named in the test case calls its service for real (Lambda, DynamoDB, SQS, ...).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.definitions.catalog import STATEMACHINES_DIR

DEFAULT_PATH = STATEMACHINES_DIR / "MockConfigFile.json"
ENV_VAR = "SFN_MOCK_CONFIG"  # the variable Step Functions Local reads; the local cloud honours it too


class MockConfigError(ValueError):
    """The file breaks the format, or names a test case or response it does not define."""


@dataclass(frozen=True)
class MockedResponse:
    """What one attempt (or a range of attempts) of a mocked state answers."""

    first: int
    last: int
    result: Any = None  # the task's result, for Return
    error: str | None = None  # for Throw
    cause: str | None = None

    @property
    def throws(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class MockTestCase:
    state_machine: str
    name: str
    # state name -> (mocked response name, its responses in attempt order)
    states: Mapping[str, tuple[str, tuple[MockedResponse, ...]]]

    def response(self, state: str, attempt: int) -> MockedResponse:
        for r in self.states[state][1]:
            if r.first <= attempt <= r.last:
                return r
        raise MockConfigError(f"test case {self.name}: no mocked response for {state} attempt {attempt}")


@dataclass(frozen=True)
class MockConfig:
    path: Path | None
    state_machines: Mapping[str, Mapping[str, Mapping[str, str]]]  # machine -> test case -> state -> response
    responses: Mapping[str, tuple[MockedResponse, ...]]

    @classmethod
    def load(cls, path: str | Path | None = None) -> MockConfig:
        path = Path(path) if path else default_path()
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise MockConfigError(f"cannot read mock configuration {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise MockConfigError(f"mock configuration {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: Path | None = None) -> MockConfig:
        where = str(path or "mock configuration")
        if not isinstance(data, dict) or set(data) - {"StateMachines", "MockedResponses"}:
            raise MockConfigError(f"{where}: expected an object with StateMachines and MockedResponses")
        responses = {name: _responses(name, ranges, where) for name, ranges in _object(data, "MockedResponses", where).items()}
        machines: dict[str, dict[str, dict[str, str]]] = {}
        for machine, body in _object(data, "StateMachines", where).items():
            if not isinstance(body, dict) or set(body) != {"TestCases"} or not isinstance(body["TestCases"], dict):
                raise MockConfigError(f"{where}: StateMachines.{machine} must be {{\"TestCases\": {{...}}}}")
            machines[machine] = {}
            for case, states in body["TestCases"].items():
                if not isinstance(states, dict) or not all(isinstance(v, str) for v in states.values()):
                    raise MockConfigError(f"{where}: test case {machine}#{case} must map state names to response names")
                for state, response in states.items():
                    if response not in responses:
                        raise MockConfigError(f"{where}: test case {machine}#{case}: state {state} uses "
                                              f"{response!r}, which MockedResponses does not define")
                machines[machine][case] = dict(states)
        return cls(path, machines, responses)

    def test_cases(self, state_machine: str) -> list[str]:
        return list(self.state_machines.get(state_machine, {}))

    def test_case(self, state_machine: str, name: str) -> MockTestCase:
        cases = self.state_machines.get(state_machine)
        if cases is None:
            raise MockConfigError(f"no test cases for state machine {state_machine!r} in {self.path or 'the mock configuration'}")
        if name not in cases:
            known = ", ".join(cases) or "none"
            raise MockConfigError(f"no test case {name!r} for state machine {state_machine!r} (known: {known})")
        return MockTestCase(state_machine, name, {s: (r, self.responses[r]) for s, r in cases[name].items()})


def default_path() -> Path:
    """$SFN_MOCK_CONFIG if set (as for Step Functions Local), else statemachines/MockConfigFile.json."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def split_arn(state_machine_arn: str) -> tuple[str, str | None]:
    """`arn...:stateMachine:name#TestCase` -> (the state machine ARN, "TestCase")."""
    base, sep, test_case = state_machine_arn.partition("#")
    return base, (test_case if sep else None)


def _object(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MockConfigError(f"{where}: {key} must be an object")
    return value


def _responses(name: str, ranges: Any, where: str) -> tuple[MockedResponse, ...]:
    if not isinstance(ranges, dict) or not ranges:
        raise MockConfigError(f"{where}: mocked response {name} must map attempts (\"0\", \"1-2\") to Return or Throw")
    out = []
    for key, body in ranges.items():
        first, last = _attempts(name, key, where)
        if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in ("Return", "Throw"):
            raise MockConfigError(f"{where}: mocked response {name}[{key}] needs exactly one of Return or Throw")
        if "Return" in body:
            out.append(MockedResponse(first, last, result=body["Return"]))
            continue
        throw = body["Throw"]
        if not (isinstance(throw, dict) and set(throw) == {"Error", "Cause"}
                and all(isinstance(v, str) for v in throw.values())):
            raise MockConfigError(f"{where}: mocked response {name}[{key}].Throw needs Error and Cause, both text")
        out.append(MockedResponse(first, last, error=throw["Error"], cause=throw["Cause"]))
    out.sort(key=lambda r: r.first)
    expected = 0
    for r in out:
        if r.first != expected:
            raise MockConfigError(f"{where}: mocked response {name}: attempts must follow each other from 0; "
                                  f"expected {expected}, found {r.first}")
        expected = r.last + 1
    return tuple(out)


def _attempts(name: str, key: str, where: str) -> tuple[int, int]:
    parts = key.strip().split("-")
    try:
        if len(parts) not in (1, 2):
            raise ValueError
        first, last = int(parts[0]), int(parts[-1])
    except ValueError:
        raise MockConfigError(f"{where}: mocked response {name}: {key!r} is not an attempt number or range") from None
    if first < 0 or last < first:
        raise MockConfigError(f"{where}: mocked response {name}: bad attempt range {key!r}")
    return first, last
