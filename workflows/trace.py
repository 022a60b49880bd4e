"""Execution history -> per-state view: which states ran, in order, with retries and errors.

Reads only GetExecutionHistory events, so it works on every target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_FAILED = {"TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "LambdaFunctionTimedOut", "ActivityFailed",
           "ActivityTimedOut", "TaskSubmitFailed", "LambdaFunctionStartFailed"}


@dataclass
class StateVisit:
    name: str
    type: str
    entered: datetime | None = None
    exited: datetime | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)  # one per failed attempt, in order
    input: Any = None
    output: Any = None
    status: str = "running"  # succeeded | failed | caught | running
    waited_for_token: bool = False

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def duration_ms(self) -> float | None:
        if self.entered and self.exited:
            return (self.exited - self.entered).total_seconds() * 1000
        return None


def visits_from_history(events: list[dict]) -> list[StateVisit]:
    visits: list[StateVisit] = []
    open_visit: dict[int, StateVisit] = {}  # entered-event id -> visit, for nested (Parallel/Map) states
    current: StateVisit | None = None
    by_id: dict[int, StateVisit] = {}
    for ev in events:
        etype: str = ev["type"]
        parent = by_id.get(ev.get("previousEventId", -1))
        if etype.endswith("StateEntered"):
            d = ev["stateEnteredEventDetails"]
            current = StateVisit(name=d["name"], type=etype[: -len("StateEntered")], entered=ev["timestamp"],
                                 input=d.get("input"))
            visits.append(current)
            open_visit[ev["id"]] = current
            by_id[ev["id"]] = current
            continue
        visit = parent or current
        if visit is not None:
            by_id[ev["id"]] = visit
        if etype.endswith("StateExited"):
            d = ev["stateExitedEventDetails"]
            target = next((v for v in reversed(visits) if v.name == d["name"] and v.exited is None), None)
            if target is not None:
                target.exited = ev["timestamp"]
                target.output = d.get("output")
                if target.status == "running":
                    target.status = "succeeded"
        elif visit is None:
            continue
        elif etype in _SCHEDULED:
            visit.attempts += 1
            params = ev.get("taskScheduledEventDetails", {}).get("resource", "")
            if "waitForTaskToken" in params:
                visit.waited_for_token = True
        elif etype in _FAILED:
            details = next((v for k, v in ev.items() if k.endswith("EventDetails")), {}) or {}
            visit.errors.append(details.get("error") or etype)
            visit.status = "failed"
        elif etype in ("TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"):
            visit.status = "running"  # a later StateExited marks it succeeded
    # A failed attempt followed by a successful exit was retried; a failed state that still
    # exited was caught by a Catch.
    for v in visits:
        if v.errors and v.exited is not None:
            v.status = "caught" if len(v.errors) >= v.attempts else "succeeded"
    return visits
