"""`fleet lab concurrency`: Lambda's concurrency experiments on the local runtime, on a virtual
clock (workflows/lab/concurrency.py), printed as a timeline."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    lab = sub.add_parser("lab", help="experiments on the local Lambda runtime, on a virtual clock")
    which = lab.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    concurrency = which.add_parser("concurrency", help="reserved and provisioned concurrency, synchronous vs "
                                                       "asynchronous calls, and asynchronous retries, as a timeline")
    concurrency.add_argument("--calls", type=_calls, default=30, help="calls once a second (default %(default)s)")
    concurrency.set_defaults(handler=cmd_concurrency)


def _calls(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= n <= 120:
        raise argparse.ArgumentTypeError("from 1 to 120 calls")
    return n


def cmd_concurrency(args: argparse.Namespace) -> int:
    from workflows.lab.concurrency import report

    report(print, args.calls)
    return 0
