"""A rule's target without an InputTransformer receives the event whole, as EventBridge sends it.
moto renders every such event through a default input template that leaves out `account` (and
splices the other fields into JSON text unescaped); the event is now handed on as it is, without
moto's own bookkeeping (`ingestion-time`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.events import utils as events_utils

from workflows.local.adapter.seam import Seam


def _whole_without_transformer(parse: Callable[..., dict[str, Any]]) -> Any:
    @functools.wraps(parse)
    def run(input_template: str | None, input_paths_map: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        if input_template or input_paths_map:
            return parse(input_template, input_paths_map, event)
        return {k: v for k, v in event.items() if k != "ingestion-time"}

    return staticmethod(run)  # parse is a staticmethod of EventTemplateParser


SEAM = Seam(__name__, "a target without an input transformer gets the whole event",
            corrects="moto 5.2.5 delivers events through a default template that drops `account`")
SEAM.wrap(events_utils.EventTemplateParser, "parse", _whole_without_transformer)
