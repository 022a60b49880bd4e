"""What every command reports the same way: its exit code, from one table (README.md shows the
same table, and a test holds the two together), and an error as one line on stderr.
"""

from __future__ import annotations

import argparse
from enum import IntEnum
from typing import Any, NoReturn


class Exit(IntEnum):
    """`fleet`'s exit codes. The docstring of each line is what README.md's table says."""

    OK = 0
    NOT_SUCCEEDED = 1
    USAGE = 2
    NOT_FOUND = 3
    UNAVAILABLE = 4
    WAITING = 5
    INTERNAL = 70
    INTERRUPTED = 130
    BROKEN_PIPE = 141


MEANINGS: dict[Exit, str] = {
    Exit.OK: "done: the execution SUCCEEDED (a named outcome such as `CarAlreadyRegistered` included), or what was "
             "asked was read or sent",
    Exit.NOT_SUCCEEDED: "the execution ended FAILED, TIMED_OUT or ABORTED; a ride or job was not waiting to be "
                        "resumed; a redrive left a failure open; `fleet load` saw errors",
    Exit.USAGE: "bad arguments, input or set-up: one line on stderr, nothing started or changed",
    Exit.NOT_FOUND: "no such execution, car, ride, job or failure, or an id prefix that matches several",
    Exit.UNAVAILABLE: "the target cannot be used: nothing answers, a timeout, no credentials, not the fleet's stack, "
                      "or the service refused the call",
    Exit.WAITING: "the execution is still running: it waits for a task token (the output says which command "
                  "resumes it) or `--timeout` passed",
    Exit.INTERNAL: "a fault in fleet itself: one line naming it (`FLEET_DEBUG=1` shows the stack trace); please "
                   "report it",
    Exit.INTERRUPTED: "interrupted (Ctrl-C); an execution already started goes on, and its ARN was printed first",
    Exit.BROKEN_PIPE: "whoever read the output stopped reading (the output piped into `head`, say)",
}


class CommandError(Exception):
    """A command cannot do what was asked: reported as one line on stderr, with its exit code."""

    exit_code = Exit.USAGE


class UsageError(CommandError):
    """A problem with what the user asked for: exit 2."""


class NotFound(CommandError):
    """What the user named does not exist there (or a prefix names several): exit 3."""

    exit_code = Exit.NOT_FOUND


class Unavailable(CommandError):
    """The target cannot be used: exit 4."""

    exit_code = Exit.UNAVAILABLE


class Parser(argparse.ArgumentParser):
    """Options are spelled out (no abbreviations: `--h` is not `--help`), and a parse error is one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        raise UsageError(message)
