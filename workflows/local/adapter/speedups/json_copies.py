"""The engine deep-copies the state's JSON at every turn (each `$.` path read copies the whole
input, and the input, result, parameters and stack are copied again between states). Those
copies, which only ever hold JSON values, are made by a copier for JSON (dicts, lists, text,
numbers, booleans, null; anything else still deep-copied): a few per cent of a registration's
CPU, measured A/B (bench/results)."""

from __future__ import annotations

import copy
import types
from typing import Any

from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import state_parallel
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
from moto.stepfunctions.parser.asl.eval import states as engine_states
from moto.stepfunctions.parser.asl.eval.event import event_manager

from workflows.local.adapter.seam import Seam

_JSON_ATOMS = frozenset({str, int, float, bool, type(None)})


def copy_json_value(value: Any, memo: Any = None) -> Any:
    """copy.deepcopy for a JSON value, several times faster. Exact types only: a dict or list
    subclass, a datetime, a Decimal or any other object is deep-copied as before."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json_value(item) for key, item in value.items()}
    if kind is list:
        return [copy_json_value(item) for item in value]
    if kind in _JSON_ATOMS:
        return value
    return copy.deepcopy(value, memo)


_JSON_COPY = types.SimpleNamespace(deepcopy=copy_json_value, copy=copy.copy)

SEAM = Seam(__name__, "the state's JSON copied by a JSON copier")
# The engine modules whose copy.deepcopy only ever copies a state's JSON (input, result, error
# output, parameters, stack, a path's value, a history event's details).
for _module in (engine_states, string_expression, result_path, execute_state, state_map, state_parallel,
                state_task_service, event_manager):
    SEAM.replace(_module, "copy", _JSON_COPY)
