"""A task token answered before the engine has set up its heartbeat wait is not lost. The token
is stored by the task's Lambda, so a quick client can answer before the Lambda's result is back;
moto then waits out HeartbeatSeconds and reports a heartbeat timeout for a task that succeeded.
The new heartbeat endpoint is told at once when the answer is already in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.eval.callback import callback

from workflows.local.adapter.seam import Seam


def _told_of_an_earlier_answer(setup: Callable[[Any, int], Any]) -> Callable[[Any, int], Any]:
    @functools.wraps(setup)
    def setup_heartbeat_endpoint(endpoint: Any, heartbeat_seconds: int) -> Any:
        heartbeat = setup(endpoint, heartbeat_seconds)
        if endpoint.get_outcome() is not None:
            heartbeat.notify()
        return heartbeat

    return setup_heartbeat_endpoint


SEAM = Seam(__name__, "a token answered before its heartbeat wait starts completes the task",
            corrects="moto 5.2.5 loses a SendTaskSuccess that arrives before setup_heartbeat_endpoint")
SEAM.wrap(callback.CallbackEndpoint, "setup_heartbeat_endpoint", _told_of_an_earlier_answer)
