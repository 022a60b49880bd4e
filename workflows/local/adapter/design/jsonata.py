"""JSONata and variables: the engine evaluates JSONata with jsonata-python (a port of jsonata-java,
the implementation LocalStack's engine runs on a JVM).

moto 5.2.5 parses JSONata states (`QueryLanguage: JSONata`, `{% ... %}` fields, `Assign`, `Output`,
`Arguments`, `$states`) and variable reads in JSONPath states (`"x.$": "$var"`), but its evaluator is a
function pointer left `None`: every one failed with `States.Runtime: 'NoneType' object is not
callable`. Here the two places that evaluate (StringJSONata, a `{% %}` field; StringVariableSample, a
variable read) evaluate instead:

- each expression is parsed once (per thread: a parsed jsonata-python expression keeps evaluation
  state) and evaluated with `$states` and the variables bound as values. moto would inline every
  variable's JSON text into the expression and parse it again at each evaluation (about ten times
  the CPU, and a string holding a quote broke it);
- the step functions AWS adds to JSONata ($partition, $range, $hash, $random with a seed, $uuid,
  $parse) are moto's declarations, compiled with the expression that uses them;
- a failure is AWS's: `States.QueryEvaluationError` with an `EvaluationFailed` event whose cause
  names the expression and the field ("... threw an error during evaluation. T1006: Attempted to
  invoke a non-function", "... returned nothing (undefined).", "... returned an unsupported result
  type.", the last without the event, as AWS records it).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

import jsonata
from jsonata.utils import Utils
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common import outputdecl, parargs
from moto.stepfunctions.parser.asl.component.common.assign import assign_decl, assign_template_binding
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.jsonata import jsonata_template_binding
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.common.timeouts import heartbeat, timeout
from moto.stepfunctions.parser.asl.component.intrinsic.jsonata import get_intrinsic_functions_declarations
from moto.stepfunctions.parser.asl.component.state.choice.comparison import comparison
from moto.stepfunctions.parser.asl.component.state.exec.state_map import max_concurrency, tolerated_failure
from moto.stepfunctions.parser.asl.component.state.exec.state_map.items import items
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import seconds
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

from workflows.local.adapter.seam import Seam

_local = threading.local()

# AWS's functions written in JSONata by moto ($partition, $range, $parse); moto's `$randomSeeded`
# is no AWS function (AWS answers T1006 for it) and its $hash and $uuid answer "not supported".
_DECLARED = {"$partition", "$range", "$parse"}
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(value: Any, algorithm: Any) -> str:
    if not isinstance(value, str) or algorithm not in _HASHES:
        raise ValueError(f"$hash takes a string and one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], value.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    """$random() or, on AWS, $random(seed): the same seed, the same number."""
    return random.Random(seed).random() if seed is not None else random.random()


_NATIVE: dict[str, Callable[..., Any]] = {"uuid": lambda: str(uuid.uuid4()), "hash": _hash, "random": _random}


class _Expression:
    """One JSONata expression as the engine meant it: parsed once per thread."""

    def __init__(self, expression: str, with_functions: bool):
        # Raises IllegalJSONataVariableReference for a bare `$` or `$$`, as moto's own path does.
        references = moto_jsonata.extract_jsonata_variable_references(expression)
        self.uses_states = any(r == "$states" or r.startswith("$states.") for r in references)
        functions = get_intrinsic_functions_declarations(references & _DECLARED) if with_functions else ""
        self.source = f"({functions}{expression})" if functions else expression
        self.parsed: jsonata.Jsonata | None = None
        self.error: Exception | None = None
        try:
            self.parsed = jsonata.Jsonata(self.source)
            self.parsed.set_output_convert_nulls(False)  # null and undefined stay apart
            if with_functions:
                for name, implementation in _NATIVE.items():
                    self.parsed.register_lambda(name, implementation)
        except Exception as exc:  # noqa: BLE001 - a syntax error fails the state at evaluation, as on AWS
            self.error = exc


def _expression(expression: str, with_functions: bool) -> _Expression:
    cache: dict[tuple[str, bool], _Expression] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = (expression, with_functions)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _Expression(expression, with_functions)
    return found


def _bindings(env: Any, states: bool) -> dict[str, Any]:
    store = env.variable_store
    values: dict[str, Any] = {**store._outer_scope, **store._inner_scope}  # moto keeps no public view
    if states:
        values["states"] = env.states._states_data
    # A variable holding JSON null is null, not undefined.
    return {name: Utils.NULL_VALUE if value is None else value for name, value in values.items()}


def _field_path() -> list[str]:
    """The field being evaluated, as AWS names it in a cause: `Output/FunctionResult`, `Items`."""
    path: list[str] | None = getattr(_local, "path", None)
    if path is None:
        path = _local.path = []
    return path


def _in_field(segment: Callable[[Any], str]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def wrap(eval_: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(eval_)
        def run(component: Any, env: Any) -> None:
            path = _field_path()
            path.append(segment(component))
            try:
                eval_(component, env)
            finally:
                path.pop()

        return run

    return wrap


def _fail(env: Any, expression: str, problem: str, recorded: bool = True) -> FailureEventException:
    """AWS's States.QueryEvaluationError, with the EvaluationFailed event it records (none for a
    result of an unsupported type: AWS's history has none then)."""
    name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    field = "/".join(_field_path()) or env.next_field_name
    cause = f"The JSONata expression '{expression}' specified for the field '{field}' {problem}"
    failure = FailureEventException(failure_event=FailureEvent(
        env=env, error_name=name, event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=EvaluationFailedEventDetails(  # type: ignore[typeddict-item]
            error=name.error_name, cause=cause)),
    ))
    if recorded:
        env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.EvaluationFailed,
                                    event_details=EventDetails(  # type: ignore[typeddict-item]  # moto's TypedDict is total
                                        evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()))
    return failure


def _is_json(value: Any) -> bool:
    if value is None or value is Utils.NULL_VALUE or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(_is_json(v) for v in value.values())
    return False


def evaluate(env: Any, expression: str, *, states: bool, with_functions: bool, strict: bool) -> Any:
    """The value of `expression` in the state's environment. `strict`: a `{% %}` field, where
    undefined and non-JSON results fail the state (a variable read passes them on)."""
    compiled = _expression(expression, with_functions)
    if compiled.parsed is None:
        raise _fail(env, expression, f"threw an error during evaluation. {_describe(compiled.error)}")
    try:
        result = compiled.parsed.evaluate(None, _bindings(env, states and compiled.uses_states))
    except Exception as exc:  # any evaluation failure is the expression's, as on AWS
        raise _fail(env, expression, f"threw an error during evaluation. {_describe(exc)}") from exc
    if strict:
        if result is None:
            raise _fail(env, expression, "returned nothing (undefined).")
        if not _is_json(result):
            raise _fail(env, expression, "returned an unsupported result type.", recorded=False)
    # A fresh value: the engine goes on to change what a state outputs.
    return copy.deepcopy(Utils.convert_nulls(result))


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, jsonata.JException):
        return f"{exc.error}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _eval_jsonata_field(self: Any, env: Any) -> None:
    env.stack.append(evaluate(env, self.expression, states=True, with_functions=True, strict=True))


def _eval_variable_sample(self: Any, env: Any) -> None:
    states = self.query_language_mode == QueryLanguageMode.JSONata
    env.stack.append(evaluate(env, self.expression, states=states, with_functions=False, strict=False))


SEAM = Seam(__name__, "JSONata fields and variable reads are evaluated by jsonata-python, with AWS's error names and events")
SEAM.replace(string_expression.StringJSONata, "_eval_body", _eval_jsonata_field)
SEAM.replace(string_expression.StringVariableSample, "_eval_body", _eval_variable_sample)
# The fields a JSONata expression can sit in, and the keys inside their templates: the cause's field path.
for _owner, _segment in (
    (outputdecl.Output, lambda _c: "Output"),
    (parargs.Arguments, lambda _c: "Arguments"),
    (assign_decl.AssignDecl, lambda _c: "Assign"),
    (jsonata_template_binding.JSONataTemplateBinding, lambda c: c.identifier),
    (assign_template_binding.AssignTemplateBinding, lambda c: c.identifier),
    (items.ItemsJSONata, lambda _c: "Items"),
    (comparison.ConditionStringJSONata, lambda _c: "Condition"),
    (timeout.TimeoutSecondsJSONata, lambda _c: "TimeoutSeconds"),
    (heartbeat.HeartbeatSecondsJSONata, lambda _c: "HeartbeatSeconds"),
    (seconds.SecondsJSONata, lambda _c: "Seconds"),
    (max_concurrency.MaxConcurrencyJSONata, lambda _c: "MaxConcurrency"),
    (tolerated_failure.ToleratedFailureCountStringJSONata, lambda _c: "ToleratedFailureCount"),
    (tolerated_failure.ToleratedFailurePercentageStringJSONata, lambda _c: "ToleratedFailurePercentage"),
):
    SEAM.wrap(_owner, "eval", _in_field(_segment))
