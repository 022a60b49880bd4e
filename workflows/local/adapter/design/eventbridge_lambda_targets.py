"""EventBridge rules with a Lambda target: moto raises NotImplementedError for them, so the
matching events are handed to the local Lambda runtime's asynchronous invoke (AWS's async
contract: retries, then the on-failure destination). Other targets go moto's way."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

from moto.events import models as events_models

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam


def _with_lambda_targets(send_to_targets: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(send_to_targets)
    def send(rule: Any, original_event: Any, transform_input: bool = True) -> None:
        lambda_targets = [t for t in rule.targets if ":lambda:" in t.get("Arn", "")]
        if lambda_targets and rule.event_pattern.matches_event(original_event):
            for target in lambda_targets:
                bound.runtime.invoke_async(target["Arn"], json.dumps(original_event, default=str),
                                           on_failure=bound.on_async_failure)
        others = [t for t in rule.targets if t not in lambda_targets]
        if others:
            rule = copy.copy(rule)
            rule.targets = others
            send_to_targets(rule, original_event, transform_input)

    return send


SEAM = Seam(__name__, "EventBridge rules deliver to Lambda targets (moto: NotImplementedError)")
SEAM.wrap(events_models.Rule, "send_to_targets", _with_lambda_targets)
