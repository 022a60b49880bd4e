"""What the seams call into: the running local cloud's Lambda runtime, clock and settings.
moto's state is process-global, so these are too; `adapter.install()` rebinds them per cloud."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.local.clock import Clock
    from workflows.local.lambda_runtime import LambdaRuntime


class Bindings:
    def __init__(self) -> None:
        self._runtime: LambdaRuntime | None = None
        self._clock: Clock | None = None
        # Where an asynchronous invocation that failed for good is reported (AWS's on-failure destination).
        self.on_async_failure: Callable[[dict[str, Any]], None] | None = None
        # MockConfigFile.json for `stateMachineArn#TestCase` executions (None: the default file).
        self.mock_config: str | Path | None = None

    def bind(self, runtime: LambdaRuntime, clock: Clock, on_async_failure: Callable[[dict[str, Any]], None] | None,
             mock_config: str | Path | None) -> None:
        from workflows.local.clock import ClockEvent

        self._runtime, self._clock = runtime, clock
        ClockEvent.clock = clock  # the engine's timed waits (design.clock)
        self.on_async_failure, self.mock_config = on_async_failure, mock_config

    @property
    def runtime(self) -> LambdaRuntime:
        if self._runtime is None:
            raise RuntimeError("no local cloud is running")
        return self._runtime

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            raise RuntimeError("no local cloud is running")
        return self._clock

    @property
    def started(self) -> bool:
        return self._runtime is not None


bound = Bindings()
