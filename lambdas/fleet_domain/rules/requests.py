"""What a request that breaks a rule is told: the first field at fault and the rule it breaks, in
the words the caller reads after "<field>: " (FieldError's message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fleet_domain.models.errors import FieldError

Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], event: Any, error: type[FieldError], request: str,
              rule: Callable[[str], str | None]) -> Model:
    """`event` as `model`, or `error` naming the first field at fault: a missing field, a field the
    request does not have, or the rule `rule(field)` states (pydantic's own words otherwise)."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "request"
        if first["type"] == "missing":
            raise error(field, "is required") from None
        if first["type"] == "extra_forbidden":
            raise error(field, f"is not a field of a {request}") from None
        raise error(field, rule(field) or first["msg"]) from None


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects in a parsed JSON value nest deeper than `limit` (walked without
    recursion, so no recursion limit decides it): the one depth rule of the API and the CLI."""
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False
