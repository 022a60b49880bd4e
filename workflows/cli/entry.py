"""`fleet`: run the car fleet's workflows locally, on Step Functions Local, or on AWS.

Exit codes: 0 success, 1 a workflow ended other than SUCCEEDED, 2 bad input or environment.
Errors are one line on stderr, never a stack trace.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from workflows.cli import cost, demo, dlq, fleet, load, run, sfn_local, trace, up
from workflows.cli.errors import Parser, UsageError
from workflows.cli.targeting import in_use

# Each command group adds its subcommands (and their handlers) to the parser.
COMMAND_GROUPS = (up, run, demo, sfn_local, dlq, trace, fleet, cost, load)


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
    except UsageError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from workflows.targets import explain

        target = in_use(args)
        why = explain(exc, target) if target is not None else None
        if why is None:
            raise
        print(f"fleet: {why}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
