"""`fleet demo`: the whole car lifecycle in a throwaway local cloud."""

from __future__ import annotations

import argparse
from typing import Any

from workflows.cli.up import faults_from


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="the whole car lifecycle in a throwaway local cloud, and what happened")
    demo.add_argument("--faults", metavar="FILE", help="inject faults from a JSON file on top of the demo's own")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from workflows.demo.run import run_demo

    return run_demo(faults_from(args.faults))
