"""An UpdateItem's UpdateExpression was parsed twice per request and its tree deep-copied once
more (the validator rewrites its copy in place): parses are kept per expression text, and the
validator's copy is a pickle round trip (a third of deepcopy's cost). The kept tree is never
written: only the validator's copy is. A parse error is raised again each time (the cache keeps
only results)."""

from __future__ import annotations

import copy
import functools
import pickle
from typing import Any

from moto.dynamodb.parsing import validators as dynamodb_validators
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from workflows.local.adapter.seam import Seam


def _kept_per_text(make: Any) -> Any:
    parse: Any = functools.lru_cache(maxsize=1024)(make.__func__)
    return classmethod(parse)


def _copy_expression_tree(value: Any, memo: Any = None) -> Any:
    """The validator's private copy of a (kept, shared) expression tree."""
    try:
        return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(value, memo)


SEAM = Seam(__name__, "update expressions parsed once per text")
SEAM.wrap(UpdateExpressionParser, "make", _kept_per_text)
SEAM.replace(dynamodb_validators, "deepcopy", _copy_expression_tree)
