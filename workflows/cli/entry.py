"""`fleet`: run the car fleet's workflows locally, on Step Functions Local, or on AWS.

Exit codes are workflows/cli/errors.py's `Exit` (the table in README.md). Errors are one line on
stderr, never a stack trace: a command's own error says what to do; a failure talking to the
target is put in one line by workflows/targets (`explain`); anything else is a fault of fleet's,
named in one line (FLEET_DEBUG=1 shows its stack trace).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from workflows.cli import cost, demo, dlq, fleet, lab, load, run, sfn_local, task, trace, up
from workflows.cli.errors import CommandError, Exit, Parser
from workflows.cli.targeting import in_use

# Each command group adds its subcommands (and their handlers) to the parser.
COMMAND_GROUPS = (up, run, demo, sfn_local, dlq, trace, task, fleet, cost, load, lab)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="fleet", description="Car fleet workflows on Step Functions, locally and on AWS.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except CommandError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, and keep Python's own flush at exit quiet.
        _silence_stdout()
        return Exit.BROKEN_PIPE
    except Exception as exc:
        from workflows.targets import NotThere, TargetError, ValueRefused, explain

        target = in_use(args)
        why = explain(exc, target) if target is not None else exc if isinstance(exc, TargetError) else None
        if why is not None:
            code = Exit.NOT_FOUND if isinstance(why, NotThere) else Exit.USAGE if isinstance(why, ValueRefused) \
                else Exit.UNAVAILABLE
            return _fail(str(why), code)
        if os.environ.get("FLEET_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {_one_line(str(exc))}); FLEET_DEBUG=1 shows where",
                     Exit.INTERNAL)


def _fail(message: str, code: int) -> int:
    try:
        print(f"fleet: {_one_line(message)}", file=sys.stderr)
    except BrokenPipeError:
        pass
    return code


def _one_line(text: str) -> str:
    """One line, at most 2000 characters, printable whatever bytes the user's arguments held."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return " ".join(text.split())[:2000]


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (captured in-process)
        pass


if __name__ == "__main__":
    sys.exit(main())
