"""How a state turned its input into its output, step by step, as Step Functions' JSONPath input
and output processing does it: InputPath, Parameters, the task's result, ResultSelector,
ResultPath, OutputPath. What the history records is shown as recorded (the state's input, a
task's resolved Parameters and its result, the state's output); the steps between are worked out
from the ASL with the same rules, and a step that cannot be worked out here (an intrinsic
function, a context object path) says so instead of guessing.

    steps = io_steps(state, visit, events_by_id)   # [{"step", "expression", "value", "recorded"}]
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from workflows.definitions import asl
from workflows.trace.model import StateVisit, json_or_text

UNKNOWN = object()  # a value this module cannot work out
_SEGMENT = re.compile(r"\.([A-Za-z_][\w-]*)|\['([^']*)'\]|\[(\d+)\]")


def io_steps(state: asl.State | None, visit: StateVisit, events: Mapping[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps of one visit (JSONPath states only: a JSONata state has Arguments and Output instead)."""
    spec: Mapping[str, Any] = state.spec if state is not None else {}
    if spec.get("QueryLanguage") == "JSONata" or visit.type in ("Choice", "Wait", "Succeed", "Fail") and not spec:
        return []
    steps: list[dict[str, Any]] = []

    def step(name: str, expression: Any, value: Any, recorded: bool = False) -> Any:
        steps.append({"step": name, "expression": expression,
                      "value": None if value is UNKNOWN else value, "known": value is not UNKNOWN, "recorded": recorded})
        return value

    raw = step("state input", None, visit.input, recorded=True)
    if visit.type in ("Fail", "Succeed") and "InputPath" not in spec and "OutputPath" not in spec:
        return steps
    effective = step("InputPath", spec.get("InputPath", "$"), select(raw, spec.get("InputPath", "$")))
    scheduled = _scheduled_parameters(visit, events)
    if "Parameters" in spec:
        value = scheduled if scheduled is not None else evaluate(spec["Parameters"], effective)
        effective = step("Parameters", spec["Parameters"], value, recorded=scheduled is not None)
    if visit.type == "Task":
        result = step("task result", spec.get("Resource"), _task_result(visit, events), recorded=True)
    elif visit.type == "Pass":
        result = step("Result", spec.get("Result"), copy.deepcopy(spec["Result"])) if "Result" in spec else effective
    elif visit.type in ("Map", "Parallel"):
        result = step("results", None, UNKNOWN)
    else:
        result = effective
    if "ResultSelector" in spec:
        result = step("ResultSelector", spec["ResultSelector"], evaluate(spec["ResultSelector"], result))
    if visit.type not in ("Succeed", "Fail", "Choice", "Wait"):
        path = spec.get("ResultPath", "$")
        step("ResultPath", path, place(raw, path, result))
    step("OutputPath", spec.get("OutputPath", "$"), visit.output, recorded=True)
    return steps


def select(value: Any, path: str | None) -> Any:
    """A reference path ($, $.a.b, $.a[0], $['a b']) applied to a value; null gives {}."""
    if value is UNKNOWN:
        return UNKNOWN
    if path is None:
        return {}
    if not isinstance(path, str) or not path.startswith("$") or path.startswith("$$"):
        return UNKNOWN
    segments = _segments(path[1:])
    if segments is None:
        return UNKNOWN
    current = value
    for name, quoted, index in segments:
        key: Any = int(index) if index else (name or quoted)
        found = (isinstance(key, int) and isinstance(current, list) and key < len(current)) or \
            (isinstance(key, str) and isinstance(current, dict) and key in current)
        if not found:
            return UNKNOWN
        current = current[key]
    return current


def place(target: Any, path: str | None, value: Any) -> Any:
    """ResultPath: `value` put into a copy of `target` at `path` ($ replaces it, null discards `value`)."""
    if target is UNKNOWN or value is UNKNOWN and path is not None:
        return UNKNOWN
    if path is None:
        return target
    if path == "$":
        return value
    segments = _segments(path[1:]) if isinstance(path, str) and path.startswith("$.") else None
    if not segments or any(index for _, _, index in segments):
        return UNKNOWN
    keys = [name or quoted for name, quoted, _ in segments]
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    current = out
    for key in keys[:-1]:
        if not isinstance(current.get(key), dict):
            current[key] = {}
        current = current[key]
    current[keys[-1]] = value
    return out


def evaluate(template: Any, value: Any) -> Any:
    """A Parameters / ResultSelector template: `key.$` fields take the path's value."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(template, dict):
        out = {}
        for key, item in template.items():
            if key.endswith(".$"):
                got = select(value, item) if isinstance(item, str) else UNKNOWN
                if got is UNKNOWN:
                    return UNKNOWN  # an intrinsic function or a context path: not worked out here
                out[key[:-2]] = got
            else:
                inner = evaluate(item, value)
                if inner is UNKNOWN:
                    return UNKNOWN
                out[key] = inner
        return out
    if isinstance(template, list):
        items = [evaluate(i, value) for i in template]
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    return template


def _segments(path: str) -> list[tuple[str, str, str]] | None:
    """The parts of a plain reference path after its `$`; None for anything else (filters, wildcards)."""
    found, pos = [], 0
    for m in _SEGMENT.finditer(path):
        if m.start() != pos:
            return None
        found.append((m.group(1) or "", m.group(2) or "", m.group(3) or ""))
        pos = m.end()
    return found if pos == len(path) else None


def _scheduled_parameters(visit: StateVisit, events: Mapping[int, dict[str, Any]]) -> Any:
    for eid in reversed(visit.event_ids):
        details = events.get(eid, {}).get("taskScheduledEventDetails")
        if details is not None:
            return json_or_text(details.get("parameters"))
    return None


def _task_result(visit: StateVisit, events: Mapping[int, dict[str, Any]]) -> Any:
    for eid in reversed(visit.event_ids):
        details = events.get(eid, {}).get("taskSucceededEventDetails")
        if details is not None:
            return json_or_text(details.get("output"))
    return UNKNOWN
