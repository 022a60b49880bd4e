"""EventBridge rules with a Lambda target: moto raises NotImplementedError for them, so the
matching events are handed to the local Lambda runtime's asynchronous invoke (AWS's async
contract: retries, then the on-failure destination), in AWS's envelope: `time` as ISO 8601 text
("2024-05-01T12:00:00Z", as moto writes it for an SQS target), without moto's own bookkeeping
(`ingestion-time`). Other targets go moto's way."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events import models as events_models

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam


def aws_envelope(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge delivers it to a target."""
    delivered = {k: v for k, v in event.items() if k != "ingestion-time"}
    when = delivered.get("time")
    if isinstance(when, int | float) or (isinstance(when, str) and when.replace(".", "", 1).isdigit()):
        delivered["time"] = datetime.fromtimestamp(float(when), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def _with_lambda_targets(send_to_targets: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(send_to_targets)
    def send(rule: Any, original_event: Any, transform_input: bool = True) -> None:
        lambda_targets = [t for t in rule.targets if ":lambda:" in t.get("Arn", "")]
        if lambda_targets and rule.event_pattern.matches_event(original_event):
            payload = json.dumps(aws_envelope(original_event), default=str)
            for target in lambda_targets:
                bound.runtime.invoke_async(target["Arn"], payload, on_failure=bound.on_async_failure)
        others = [t for t in rule.targets if t not in lambda_targets]
        if others:
            rule = copy.copy(rule)
            rule.targets = others
            send_to_targets(rule, original_event, transform_input)

    return send


SEAM = Seam(__name__, "EventBridge rules deliver to Lambda targets (moto: NotImplementedError)")
SEAM.wrap(events_models.Rule, "send_to_targets", _with_lambda_targets)
