"""Fault injection for the local cloud: off unless asked for, deterministic with a seed.

A faults file is JSON:

    {"seed": 7,
     "functions": {
        "InspectCar": [{"error": "TransientInspectionError", "first": 2, "match": {"vin": "..."}},
                       {"throttle": true, "rate": 0.2}],
        "PlanRoute":  [{"latency_s": 2}, {"timeout": true, "rate": 0.05}]},
     "tables": {
        "Cars": [{"throughput_exceeded": true, "rate": 0.1}]}}

Per rule: what happens (`error` raised by that class name, `throttle` reported by Step Functions
as Lambda.TooManyRequestsException, `timeout` runs past the function's timeout, `latency_s`
delays the call) and when (`first` N matching calls, or with probability `rate`, or always).
`match` restricts a rule to events whose top-level fields equal the given values.

Per table: `throughput_exceeded` answers a request on that table (from a handler or from a
state machine's direct DynamoDB integration) with ProvisionedThroughputExceededException, as
DynamoDB does past its capacity; `first` / `rate` as for functions. The AWS SDK in a handler
retries it; a direct integration reports DynamoDB.ProvisionedThroughputExceededException to the
state's Retry, as Step Functions does.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workflows.definitions import catalog
from workflows.definitions.catalog import Function
from workflows.local.clock import Clock
from workflows.local.lambda_runtime import LambdaThrottled


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _FunctionRuleSpec(_Strict):
    error: str | None = None
    message: str = "injected fault"
    throttle: bool = False
    timeout: bool = False
    latency_s: float = Field(default=0.0, ge=0, le=900)  # at most Lambda's longest timeout
    rate: float | None = Field(default=None, ge=0, le=1)
    first: int | None = Field(default=None, ge=0)
    match: dict[str, Any] = Field(default_factory=dict)


class _TableRuleSpec(_Strict):
    throughput_exceeded: bool = False
    rate: float | None = Field(default=None, ge=0, le=1)
    first: int | None = Field(default=None, ge=0)


class _FaultsFile(_Strict):
    """The shape of a faults file (the module docstring)."""

    seed: int = 0
    functions: dict[str, list[_FunctionRuleSpec]] = Field(default_factory=dict)
    tables: dict[str, list[_TableRuleSpec]] = Field(default_factory=dict)


@dataclass
class FaultRule:
    error: str | None = None
    message: str = "injected fault"
    throttle: bool = False
    timeout: bool = False
    latency_s: float = 0.0
    rate: float | None = None
    first: int | None = None
    match: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def __post_init__(self) -> None:
        if not (self.error or self.throttle or self.timeout or self.latency_s):
            raise ValueError("a fault rule needs one of: error, throttle, timeout, latency_s")
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")

    def matches(self, event: Any) -> bool:
        if not self.match:
            return True
        return isinstance(event, dict) and all(event.get(k) == v for k, v in self.match.items())


@dataclass
class TableFaultRule:
    throughput_exceeded: bool = False
    rate: float | None = None
    first: int | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        if not self.throughput_exceeded:
            raise ValueError("a table fault rule needs throughput_exceeded: true")
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")

    def matches(self, _request: Any) -> bool:
        return True


class Faults:
    def __init__(self, rules: dict[str, list[FaultRule]], seed: int = 0,
                 tables: dict[str, list[TableFaultRule]] | None = None):
        for name in rules:
            catalog.function(name)  # an unknown function is a mistake in the file, not a no-op
        self.tables = tables or {}
        # Requests name tables by their deployed name; the file by the catalog's logical id.
        self.table_rules = {catalog.table(name).table_name: items for name, items in self.tables.items()}
        self.rules = rules
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.enabled = True

    @classmethod
    def from_dict(cls, data: Any) -> Faults:
        """A faults file's content, checked against its shape (_FaultsFile): ValueError in one line."""
        from pydantic import ValidationError

        try:
            spec = _FaultsFile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            if not first["loc"]:
                raise ValueError('must be a JSON object: {"seed": N, "functions": {...}, "tables": {...}}') from None
            message = first["msg"].split(" or instance of ")[0]  # not the validating class's name
            raise ValueError(f"{'.'.join(str(p) for p in first['loc'])}: {message}") from None
        rules = {name: [FaultRule(**r.model_dump(exclude_unset=True)) for r in items] for name, items in spec.functions.items()}
        tables = {name: [TableFaultRule(**r.model_dump(exclude_unset=True)) for r in items]
                  for name, items in spec.tables.items()}
        try:
            return cls(rules, seed=spec.seed, tables=tables)
        except KeyError as exc:  # a function or table the catalog does not have
            raise ValueError(str(exc.args[0])) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Faults:
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise ValueError(f"cannot read faults file {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"faults file {path} is not valid JSON: {exc}") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"faults file {path}: {exc}") from None

    def plus(self, other: Faults | None) -> Faults:
        """These rules and then `other`'s (a user's faults file on top of a scenario's own)."""
        if other is None:
            return self
        merge = lambda a, b: {k: [*a.get(k, []), *b.get(k, [])] for k in {**a, **b}}
        combined = Faults(merge(self.rules, other.rules), tables=merge(self.tables, other.tables))
        combined._random = other._random  # the file's seed decides its rates
        return combined

    def table_fault(self, table_name: str) -> bool:
        """True when this request on the table is to be refused as over its throughput."""
        return self.enabled and any(self._due(rule, None) for rule in self.table_rules.get(table_name, ()))

    def _due(self, rule: FaultRule | TableFaultRule, event: Any) -> bool:
        if not rule.matches(event):
            return False
        with self._lock:
            if rule.first is not None:
                due = rule.fired < rule.first
            elif rule.rate is not None:
                due = self._random.random() < rule.rate
            else:
                due = True
            if due:
                rule.fired += 1
            return due

    def __call__(self, function: Function, event: Any, clock: Clock) -> None:
        """The LambdaRuntime fault hook: runs before the handler, in the invocation's thread."""
        if not self.enabled:
            return
        for rule in self.rules.get(function.logical_id, ()):
            if not self._due(rule, event):
                continue
            if rule.latency_s:
                clock.sleep(rule.latency_s)
            if rule.timeout:
                clock.sleep(function.timeout_s + 1)
            if rule.throttle:
                raise LambdaThrottled(f"Rate Exceeded. (injected for {function.function_name})")
            if rule.error:
                raise type(rule.error, (Exception,), {})(rule.message)
