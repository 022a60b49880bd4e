"""moto parses a definition when the state machine is created (to validate it) and again for
every execution (see bench/results for the register workflow's parse time). Both now share one
parse per definition. The component tree is read-only after parsing (per-execution state lives
in each execution's Environment) except for each component's lazily drawn heap key, which is
drawn once, up front, so concurrent executions never race on it. A burst of first executions
waits for the one parse instead of each parsing (a parse holds the GIL; twenty at once starved
the Lambdas). A definition that fails to parse raises as before and is not kept."""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.adapter.seam import Seam

_ASL_PARSER = asl_parser.AmazonStateLanguageParser
_programs: dict[str, Any] = {}
_parsing = threading.Lock()


class CachingAslParser:
    @staticmethod
    def parse(definition: str) -> Any:
        parsed = _programs.get(definition)
        if parsed is None:
            with _parsing:
                parsed = _programs.get(definition)
                if parsed is None:
                    parsed = _ASL_PARSER.parse(definition)
                    _draw_heap_keys(parsed[0])
                    _programs[definition] = parsed
        return parsed


def _draw_heap_keys(root: Any) -> None:
    """Touch every component's heap_key once, so it is never drawn lazily under concurrency."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            node.heap_key  # noqa: B018 - drawn for its side effect
        if isinstance(node, list | tuple | set):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif hasattr(node, "__dict__") and type(node).__module__.startswith("moto.stepfunctions"):
            stack.extend(vars(node).values())


SEAM = Seam(__name__, "a definition is parsed once and its program shared")
SEAM.replace(execution_worker, "AmazonStateLanguageParser", CachingAslParser)
SEAM.replace(parser_models, "AmazonStateLanguageParser", CachingAslParser)
