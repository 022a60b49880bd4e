"""Time as a dependency (DESIGN.md principle 6).

The local cloud reads every delay through a Clock: Wait states, retry backoff, task timeouts,
heartbeats and Lambda timeouts. `RealClock` is wall time (`fleet up`). `VirtualClock` is wall
time plus an offset that jumps forward: a sleep returns at once and moves the clock to its end,
and a timed wait on an event ends as soon as the clock has passed its deadline, whether by wall
time, another sleep, or `advance()`. So a path with 1+2+4 s of retry backoff takes milliseconds,
and a one-hour trip timeout fires the moment a test calls `clock.advance(3600)`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

# How often a virtual timed wait re-reads the clock. Short enough that an advance() is seen
# promptly, long enough to cost nothing while a token wait sits idle.
_POLL_S = 0.005


class Clock:
    virtual = False

    def now(self) -> float:
        return time.time()

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Event.wait(timeout) measured on this clock. True when the event was set."""
        return threading.Event.wait(event, timeout)

    def advance(self, seconds: float) -> None:
        raise RuntimeError("only a virtual clock can be advanced; this one is wall time")

    def skipped_by_this_thread(self) -> float:
        """Seconds this thread has slept without waiting them out (virtual clocks only)."""
        return 0.0

    def track(self, work: Callable[[], None]) -> Callable[[], None]:
        """Work scheduled now to run on another thread (a clock that steps only once every piece
        of work is waiting, the concurrency lab's, counts it from here)."""
        return work

    def waiting(self) -> contextlib.AbstractContextManager[None]:
        """Around a wait for something other work on this clock will bring (such a clock steps
        while this thread waits)."""
        return contextlib.nullcontext()


class RealClock(Clock):
    pass


class VirtualClock(Clock):
    virtual = True

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    def skipped_by_this_thread(self) -> float:
        return getattr(self._local, "skipped", 0.0)

    @property
    def skipped(self) -> float:
        """Seconds the clock has jumped ahead of wall time in all."""
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def _jump_to(self, target: float) -> None:
        with self._lock:
            self._offset = max(self._offset, target - time.time())

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            # Concurrent sleepers of the same length move the clock once, not once each.
            self._jump_to(self.now() + seconds)
            self._local.skipped = self.skipped_by_this_thread() + seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        if timeout is None:
            return threading.Event.wait(event, None)
        deadline = self.now() + max(timeout, 0)
        while True:
            remaining = deadline - self.now()
            if remaining <= 0:
                return event.is_set()
            if threading.Event.wait(event, min(remaining, _POLL_S)):
                return True


class ClockEvent(threading.Event):
    """A threading.Event whose timed wait is measured on a Clock (used inside moto's engine)."""

    clock: Clock = RealClock()

    def wait(self, timeout: float | None = None) -> bool:
        return self.clock.wait(self, timeout)


def make_clock(virtual: bool) -> Clock:
    return VirtualClock() if virtual else RealClock()
