"""DynamoDB requests are answered one at a time, from parsing to the serialised answer. moto is
not thread-safe: two conditional writes could both pass (two rides reserving one car), and an
answer built from an item another request is updating in place failed with `dictionary keys
changed during iteration`. AWS makes each conditional write atomic."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb import responses as dynamodb_responses

from workflows.local.adapter.seam import Seam

REQUESTS = threading.RLock()  # held while one DynamoDB request is answered


def _one_at_a_time(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(call_action)
    def run(handler: Any) -> Any:
        with REQUESTS:
            return call_action(handler)

    return run


SEAM = Seam(__name__, "DynamoDB requests isolated from each other: conditional writes atomic",
            corrects="moto 5.2.5's DynamoDB backend is not thread-safe (conditional writes race, reads see half-written items)")
SEAM.wrap(dynamodb_responses.DynamoHandler, "call_action", _one_at_a_time)
