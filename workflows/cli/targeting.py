"""`--target`, `--endpoint-url` and `--stack` for every command that talks to a stack, and the
Target they select (workflows/targets)."""

from __future__ import annotations

import argparse
from typing import Any

from workflows.cli.errors import NotFound, UsageError
from workflows.targets import TARGETS, AwsTarget, Target, TargetError

TARGET_HELP = ("local: `fleet up` at --endpoint-url (default $FLEET_ENDPOINT_URL or http://127.0.0.1:4566); "
               "sfn-local: AWS Step Functions Local at --endpoint-url (default $SFN_LOCAL_ENDPOINT or "
               "http://localhost:8083), the services at `fleet up`; aws: the deployed stack (--stack), with your "
               "AWS credentials")


def add_target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", choices=TARGETS, default="local", help=TARGET_HELP)
    p.add_argument("--endpoint-url", metavar="URL", help="where the target answers (see --target)")
    p.add_argument("--stack", help="with --target aws: the stack name (default $FLEET_STACK or CarFleet)")


def target_from(args: argparse.Namespace) -> Target:
    """The target the options select; kept on `args` so an error can say where it happened."""
    try:
        target = Target.select(args.target, args.endpoint_url, args.stack)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    args.target_in_use = target
    return target


def in_use(args: Any) -> Target | None:
    return getattr(args, "target_in_use", None)


def execution_from(args: argparse.Namespace, ref: str) -> tuple[Target, str]:
    """The target the options select and an execution's ARN there, from its ARN, its name or the
    start of its name (looked for among the fleet's state machines). An execution ARN on AWS names
    its own region."""
    from workflows.trace.model import resolve_execution

    target = target_from(args)
    if ref.startswith("arn:") and isinstance(target, AwsTarget):
        parts = ref.split(":")
        target = args.target_in_use = target.in_region(parts[3] if len(parts) > 3 else None)
    try:
        machines = [] if ref.startswith("arn:") else target.fleet_state_machines()
        return target, resolve_execution(target.client("stepfunctions"), ref, machines)
    except LookupError as exc:
        raise NotFound(f"{exc} at {target.where}") from None
