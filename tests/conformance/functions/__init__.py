"""The small Lambda functions the conformance cases create, written here from the behaviour each case
describes (the recording names the function's file; what it does is said in the case). One module per
function with a `handler`, as a Lambda function's code is: a stack trace names `handler` and its line.

The cases create them by name; runner.py maps each recorded handler file to the module of that name.
"""

from __future__ import annotations

from workflows.local.clock import Clock, RealClock

# The clock of the local cloud the cases run on (set by the runner): a function that "runs for a
# minute" sleeps on it, so on a virtual clock it takes no wall time yet outlasts its timeouts.
clock: Clock = RealClock()

# The recording's handler files (their stems) that have a module here.
MODULES = ("id_function", "raise_exception", "large_output_string", "wait_60_seconds")
