"""The Amazon States Language as typed objects: one class per construct, parsed once.

Plain Python (no CDK, no moto). Everything in the project that reads a state machine's structure
reads it through this model: the roles' permissions (definitions/permissions.py), the trace graph
(trace/model.py), the cost model's Express check (cost/model.py), and the tests that check the ASL
files against the catalog and the car status table.

    definition = parse(sm.definition())
    for state in definition.walk():          # depth first, Parallel branches and Map processors included
        if isinstance(state, Task): ...

Parsing is kept apart from any runtime: the model describes, it never evaluates. A state keeps
its raw `spec` too, for the fields the model does not name.

A state's `path` places it in the definition, the way the trace and the tests name states:
("RunChecks", "ItemProcessor", "RunCheck"), ("PrepareRepair", "Branches[1]", "BookTechnician").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

QueryLanguage = Literal["JSONPath", "JSONata"]
Pattern = Literal["request_response", "sync", "wait_for_task_token"]
TransitionKind = Literal["next", "choice", "default", "catch"]

# arn:aws:states:::<integration>[.sync[:N] | .waitForTaskToken]
_INTEGRATION = re.compile(r"^arn:[^:]+:states:::(?P<integration>.+?)(?P<suffix>\.sync(?::(?P<version>\d+))?|\.waitForTaskToken)?$")


class AslError(ValueError):
    """A definition that is not the Amazon States Language this model reads (not JSON, no States)."""


@dataclass(frozen=True)
class Integration:
    """What a Task's Resource calls: `arn:aws:states:::dynamodb:putItem` -> ("dynamodb:putItem",
    "request_response"); `...:lambda:invoke.waitForTaskToken` -> ("lambda:invoke", "wait_for_task_token")."""

    name: str | None  # None: the Resource is not an integration ARN (a function or activity ARN)
    pattern: Pattern = "request_response"
    sync_version: str | None = None  # "2" for `.sync:2`

    @classmethod
    def of(cls, resource: str) -> Integration:
        m = _INTEGRATION.match(resource)
        if m is None:
            return cls(None)
        suffix = m.group("suffix") or ""
        pattern: Pattern = "sync" if suffix.startswith(".sync") else "wait_for_task_token" if suffix else "request_response"
        return cls(m.group("integration"), pattern, m.group("version"))


@dataclass(frozen=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float | None = None
    max_attempts: int | None = None
    backoff_rate: float | None = None
    max_delay_seconds: float | None = None
    jitter_strategy: str | None = None


@dataclass(frozen=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = None


@dataclass(frozen=True)
class ChoiceRule:
    next: str | None
    spec: Mapping[str, Any]  # the rule as written (Variable and operator, And/Or/Not, or a JSONata Condition)


@dataclass(frozen=True)
class Transition:
    """An edge out of a state, to a sibling state of the same block."""

    target: str
    kind: TransitionKind
    rule: ChoiceRule | Catcher | None = None


@dataclass(frozen=True)
class State:
    name: str
    path: tuple[str, ...]
    type: str
    spec: Mapping[str, Any] = field(repr=False)
    comment: str | None = None
    next: str | None = None
    end: bool = False

    @property
    def id(self) -> str:
        """The state's path as one string, e.g. "RunChecks/ItemProcessor/RunCheck"."""
        return "/".join(self.path)

    @property
    def terminal(self) -> bool:
        """Whether an execution of this block ends here."""
        return self.end or self.type in ("Succeed", "Fail")

    def transitions(self) -> list[Transition]:
        out = [Transition(self.next, "next")] if self.next else []
        return out + [Transition(c.next, "catch", c) for c in getattr(self, "catch", ())]


@dataclass(frozen=True)
class _Recovering(State):
    """A state that may Retry and Catch (Task, Parallel, Map)."""

    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True)
class Task(_Recovering):
    resource: str = ""
    arguments: Mapping[str, Any] | None = None  # Parameters (JSONPath) or Arguments (JSONata)
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    credentials: bool = False  # the Task assumes another role

    @property
    def integration(self) -> Integration:
        return Integration.of(self.resource)


@dataclass(frozen=True)
class Choice(State):
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None

    def transitions(self) -> list[Transition]:
        out = [Transition(r.next, "choice", r) for r in self.choices if r.next]
        return out + ([Transition(self.default, "default")] if self.default else [])


@dataclass(frozen=True)
class Parallel(_Recovering):
    branches: tuple[Block, ...] = ()

    def branch_path(self, index: int) -> tuple[str, ...]:
        return self.path + (f"Branches[{index}]",)


@dataclass(frozen=True)
class ResourceBlock:
    """A Map's ItemReader or ResultWriter: a resource the Map itself calls."""

    kind: Literal["ItemReader", "ResultWriter"]
    resource: str
    arguments: Mapping[str, Any] | None


@dataclass(frozen=True)
class Map(_Recovering):
    processor: Block | None = None
    processor_key: Literal["ItemProcessor", "Iterator"] = "ItemProcessor"
    item_reader: ResourceBlock | None = None
    result_writer: ResourceBlock | None = None
    max_concurrency: int | None = None


@dataclass(frozen=True)
class Block:
    """States with a StartAt: the definition itself, a Parallel branch, a Map's processor."""

    start_at: str
    states: Mapping[str, State]
    query_language: QueryLanguage = "JSONPath"

    def walk(self) -> Iterator[State]:
        """Every state, depth first in definition order; nested blocks right after their state."""
        for state in self.states.values():
            yield state
            if isinstance(state, Parallel):
                for branch in state.branches:
                    yield from branch.walk()
            elif isinstance(state, Map) and state.processor is not None:
                yield from state.processor.walk()

    def by_path(self) -> dict[tuple[str, ...], State]:
        return {s.path: s for s in self.walk()}


@dataclass(frozen=True)
class Definition(Block):
    comment: str | None = None
    timeout_seconds: int | None = None

    def tasks(self) -> Iterator[Task]:
        return (s for s in self.walk() if isinstance(s, Task))


# --- parsing --------------------------------------------------------------------------------------


def parse(definition: str | Mapping[str, Any]) -> Definition:
    """The typed model of a definition (JSON text or its parsed mapping). AslError when it is not one."""
    if isinstance(definition, str):
        try:
            spec = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise AslError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    else:
        spec = definition
    if not isinstance(spec, Mapping) or not isinstance(spec.get("States"), Mapping):
        raise AslError("a state machine definition needs a States object")
    block = _block(spec, (), "JSONPath")
    return Definition(block.start_at, block.states, block.query_language, spec.get("Comment"), spec.get("TimeoutSeconds"))


def _block(spec: Mapping[str, Any], prefix: tuple[str, ...], inherited: QueryLanguage) -> Block:
    language: QueryLanguage = spec.get("QueryLanguage", inherited)
    states = {name: _state(name, prefix + (name,), s, language) for name, s in (spec.get("States") or {}).items()
              if isinstance(s, Mapping)}
    return Block(str(spec.get("StartAt", "")), states, language)


def _state(name: str, path: tuple[str, ...], spec: Mapping[str, Any], language: QueryLanguage) -> State:
    kind = str(spec.get("Type", "?"))
    common: dict[str, Any] = {"name": name, "path": path, "type": kind, "spec": spec, "comment": spec.get("Comment"),
                              "next": spec.get("Next"), "end": bool(spec.get("End"))}
    language = spec.get("QueryLanguage", language)
    recovering: dict[str, Any] = {"retry": tuple(_retrier(r) for r in spec.get("Retry") or ()),
                  "catch": tuple(_catcher(c) for c in spec.get("Catch") or () if "Next" in c)}
    if kind == "Task":
        return Task(**common, **recovering, resource=str(spec.get("Resource", "")), arguments=_arguments(spec),
                    timeout_seconds=spec.get("TimeoutSeconds"), heartbeat_seconds=spec.get("HeartbeatSeconds"),
                    credentials="Credentials" in spec)
    if kind == "Choice":
        rules = tuple(ChoiceRule(r.get("Next"), r) for r in spec.get("Choices") or ())
        return Choice(**common, choices=rules, default=spec.get("Default"))
    if kind == "Parallel":
        branches = tuple(_block(b, path + (f"Branches[{i}]",), language) for i, b in enumerate(spec.get("Branches") or ()))
        return Parallel(**common, **recovering, branches=branches)
    if kind == "Map":
        key: Literal["ItemProcessor", "Iterator"] = "Iterator" if "Iterator" in spec and "ItemProcessor" not in spec \
            else "ItemProcessor"
        processor = _block(spec[key], path + (key,), language) if isinstance(spec.get(key), Mapping) else None
        reader, writer = (ResourceBlock(k, str(spec[k].get("Resource", "")), _arguments(spec[k]))
                          if isinstance(spec.get(k), Mapping) else None for k in ("ItemReader", "ResultWriter"))
        return Map(**common, **recovering, processor=processor, processor_key=key, item_reader=reader,
                   result_writer=writer, max_concurrency=spec.get("MaxConcurrency"))
    return State(**common)


def _arguments(spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    args = spec.get("Parameters", spec.get("Arguments"))
    return args if isinstance(args, Mapping) else None


def _retrier(spec: Mapping[str, Any]) -> Retrier:
    return Retrier(tuple(spec.get("ErrorEquals") or ()), spec.get("IntervalSeconds"), spec.get("MaxAttempts"),
                   spec.get("BackoffRate"), spec.get("MaxDelaySeconds"), spec.get("JitterStrategy"))


def _catcher(spec: Mapping[str, Any]) -> Catcher:
    return Catcher(tuple(spec.get("ErrorEquals") or ()), str(spec["Next"]), spec.get("ResultPath"))
