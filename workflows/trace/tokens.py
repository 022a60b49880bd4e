"""The task tokens an execution waits for, read from its history: which state waits, since when,
what its task was handed (the resolved Parameters or Arguments) and the token itself.

Step Functions writes a `.waitForTaskToken` task's resolved parameters into its TaskScheduled
event, the token included where the ASL placed `$$.Task.Token` (JSONPath) or
`$states.context.Task.Token` (JSONata). So the token is found without asking the function that
stored it: what `fleet task success` and the console's actions send back.

    waits = token_waits(trace)          # [] unless the execution is RUNNING and waits
    waits[0].state, waits[0].token, waits[0].parameters
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.definitions import asl
from workflows.trace.model import ExecutionTrace, StateVisit, json_or_text

_JSONPATH_TOKEN = "$$.Task.Token"
_JSONATA_TOKEN = "$states.context.Task.Token"


@dataclass(frozen=True)
class TokenWait:
    state: str  # the state's name
    node_id: str  # its place in the ASL, as the graph names it
    since: datetime | None  # when the token was handed out
    parameters: Any  # what the task was handed, as Step Functions resolved it
    token: str | None  # None when the history does not show it (the ASL put it where we cannot see)
    iteration: int | None = None  # the Map item it waits in, if any


def token_waits(trace: ExecutionTrace) -> list[TokenWait]:
    """The states of a running execution that wait for their task token, oldest first."""
    if not trace.running:
        return []
    states = asl.parse(trace.definition).by_path() if trace.definition else {}
    events = {ev["id"]: ev for ev in trace.events}
    out = []
    for visit in trace.visits:
        if not visit.waiting_for_token:
            continue
        parameters = _scheduled_parameters(visit, events)
        state = states.get(visit.path)
        token = None
        if isinstance(state, asl.Task) and state.arguments is not None:
            token = _token_in(parameters, token_path(state.arguments))
        attempt = visit.tries[-1]
        out.append(TokenWait(visit.name, visit.node_id, attempt.submitted or attempt.started or attempt.scheduled,
                             parameters, token, visit.iteration))
    return out


def token_path(arguments: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Where the ASL puts the task token in a Task's Parameters / Arguments (keys as resolved:
    without their `.$`), or None."""
    for path, value in _leaves(arguments, ()):
        if isinstance(value, str) and (value == _JSONPATH_TOKEN or _JSONATA_TOKEN in value):
            return path
    return None


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, path + (str(key).removesuffix(".$"),))
    else:
        yield path, value


def _token_in(parameters: Any, path: tuple[str, ...] | None) -> str | None:
    if path is None:
        return None
    value = parameters
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, str) else None


def _scheduled_parameters(visit: StateVisit, events: Mapping[int, dict[str, Any]]) -> Any:
    for eid in reversed(visit.event_ids):
        details = events.get(eid, {}).get("taskScheduledEventDetails")
        if details is not None:
            return json_or_text(details.get("parameters"))
    return None
