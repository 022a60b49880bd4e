"""The small Lambda functions the conformance cases create, written here from the behaviour each case
describes (the recording names the function's file; what it does is said in the case).

The cases create them by name; `runner.py` maps each recorded handler file to one of these.
"""

from __future__ import annotations

from typing import Any

from workflows.local.clock import Clock, RealClock

# The clock of the local cloud the cases run on (set by the runner): a function that "runs for a
# minute" sleeps on it, so on a virtual clock it takes no wall time yet times out as it would.
clock: Clock = RealClock()


def identity(event: Any, _context: Any) -> Any:
    """Returns its input."""
    return event


def raise_exception(_event: Any, _context: Any) -> Any:
    """Fails with a plain `Exception` and the message the recordings show."""
    raise Exception("Some exception was raised.")


def large_output_string(_event: Any, _context: Any) -> Any:
    """Answers 257 KiB of text: more than a state may pass on (256 KiB)."""
    return ("a" * (257 * 1024)).encode("utf-8")


def wait_60_seconds(event: Any, _context: Any) -> Any:
    """Runs for a minute, then returns its input."""
    clock.sleep(60)
    return event


# The recording's handler file (its stem) -> the function here with that behaviour.
BY_RECORDED_FILE = {
    "id_function": identity,
    "raise_exception": raise_exception,
    "large_output_string": large_output_string,
    "wait_60_seconds": wait_60_seconds,
}
