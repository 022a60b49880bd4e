"""`fleet dlq list | show <id> | redrive [--all | <id>...] [--dry-run] | sweep` on any target; an id
(a failure's id) may be given by its start. The view is the Failures table; the queue only delivers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from workflows.cli import render
from workflows.cli.errors import Exit, UsageError
from workflows.cli.lookup import one_of
from workflows.cli.targeting import add_target_options, target_from


def register(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="operational failures: list, show, redrive, and sweep the dead-letter queue")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, parser_class=type(dlq))
    for name, help_text in (("list", "failed executions not yet redriven"), ("show", "one failure in full"),
                            ("redrive", "restart failed executions from their original input"),
                            ("sweep", "delete the queue's messages of redriven failures; record any without one")):
        p = dlq_sub.add_parser(name, help=help_text)
        add_target_options(p)
        render.add_output_option(p)
        p.set_defaults(handler=_COMMANDS[name])
        if name == "show":
            p.add_argument("id", help="the failure id from `fleet dlq list`, or the start of it")
        if name == "redrive":
            p.add_argument("ids", nargs="*", metavar="id", help="failure ids or their starts (or --all)")
            p.add_argument("--all", action="store_true", help="every failure not yet redriven")
            p.add_argument("--dry-run", action="store_true", help="say what would be started, change nothing")


def _clients(args: argparse.Namespace) -> tuple[Any, Any]:
    """The failures and the Step Functions client at the target the options select."""
    from fleet_domain.control.dlq import DeadLetterQueue
    from fleet_domain.data.failures import FailureRepository

    target = target_from(args)
    failures = FailureRepository(target.client("dynamodb"), target.table_name("Failures"))
    return DeadLetterQueue(target.client("sqs"), target.queue_url("Dlq"), failures), target.client("stepfunctions")


def _ids(dlq: Any, given: list[str]) -> list[str]:
    """Failure ids from whole ids or their starts (all resolved before anything is done)."""
    known = [f.failure_id for f in dlq.list()]
    return [one_of(g, known, "failure", "fleet dlq list") for g in given]


def cmd_list(args: argparse.Namespace) -> int:
    from fleet_domain.control.dlq import summary

    dlq, _ = _clients(args)
    failures = dlq.list()
    if render.wants_json(args):
        render.print_json([summary(f) for f in failures])
        return Exit.OK
    render.table(f"failures not yet redriven ({len(failures)})",
                 ["id", "execution", "workflow", "failed state", "error", "status", "age"],
                 [(f.failure_id, f.execution_arn.rsplit(":", 1)[-1], f.workflow, f.failed_state, f.error,
                   f.status.value, f"{f.age_s:.0f} s") for f in failures])
    return Exit.OK


def cmd_show(args: argparse.Namespace) -> int:
    from fleet_domain.control.dlq import detail

    dlq, _ = _clients(args)
    [failure_id] = _ids(dlq, [args.id])
    shown = detail(dlq.show(failure_id))
    if render.wants_json(args):
        render.print_json(shown)
    else:
        render.console.print(json.dumps(shown, indent=2, default=str), markup=False)
    return Exit.OK


def cmd_redrive(args: argparse.Namespace) -> int:
    if not args.all and not args.ids:
        raise UsageError("say which failures to redrive: ids, or --all")
    if args.all and args.ids:
        raise UsageError("give ids or --all, not both")
    dlq, sfn = _clients(args)
    ids = None if args.all else _ids(dlq, args.ids)
    results = dlq.redrive(sfn, ids, dry_run=args.dry_run).results
    if render.wants_json(args):
        render.print_json([r.as_dict() for r in results])
    else:
        verb = "would start" if args.dry_run else "started"
        render.table(f"redrive{' (dry run)' if args.dry_run else ''}", ["id", "execution", "result"], [
            (r.id, (r.execution_arn or "").rsplit(":", 1)[-1],
             r.error or (verb if r.started or r.dry_run else "already started")
             + ("" if r.dry_run else ", message deleted" if r.deleted else ", message left for `fleet dlq sweep`"))
            for r in results
        ])
    return Exit.NOT_SUCCEEDED if any(r.error for r in results) else Exit.OK


def cmd_sweep(args: argparse.Namespace) -> int:
    dlq, _ = _clients(args)
    done = dlq.sweep()
    if render.wants_json(args):
        render.print_json(dict(done.__dict__))
    else:
        render.console.print(f"sweep: {done.deleted} message(s) of redriven failures deleted, {done.recorded} without "
                             f"their failure recorded, {done.kept} kept", markup=False)
    return Exit.OK


_COMMANDS = {"list": cmd_list, "show": cmd_show, "redrive": cmd_redrive, "sweep": cmd_sweep}
