"""`fleet dlq list | show <id> | redrive [--all | <id>...] [--dry-run]` on any target; an id may be
given by its start."""

from __future__ import annotations

import argparse
import json
from typing import Any

from workflows.cli import render
from workflows.cli.errors import Exit, UsageError
from workflows.cli.lookup import one_of
from workflows.cli.targeting import add_target_options, target_from


def register(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="the dead-letter queue: list, show and redrive operational failures")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, parser_class=type(dlq))
    for name, help_text in (("list", "failed executions waiting in the DLQ"), ("show", "one message in full"),
                            ("redrive", "restart failed executions from their original input")):
        p = dlq_sub.add_parser(name, help=help_text)
        add_target_options(p)
        render.add_output_option(p)
        p.set_defaults(handler=_COMMANDS[name])
        if name == "show":
            p.add_argument("id", help="the message id from `fleet dlq list`, or the start of it")
        if name == "redrive":
            p.add_argument("ids", nargs="*", metavar="id", help="message ids or their starts (or --all)")
            p.add_argument("--all", action="store_true", help="every message in the DLQ")
            p.add_argument("--dry-run", action="store_true", help="say what would be started, change nothing")


def _clients(args: argparse.Namespace) -> tuple[Any, Any]:
    """The DLQ and the Step Functions client at the target the options select."""
    from fleet_domain.control.dlq import DeadLetterQueue

    target = target_from(args)
    return DeadLetterQueue(target.client("sqs"), target.queue_url("Dlq")), target.client("stepfunctions")


def _ids(dlq: Any, given: list[str]) -> list[str]:
    """Message ids from whole ids or their starts (all resolved before anything is done)."""
    known = [x.message_id for x in dlq.list()]
    return [one_of(g, known, "DLQ message", "fleet dlq list") for g in given]


def cmd_list(args: argparse.Namespace) -> int:
    dlq, _ = _clients(args)
    letters = dlq.list()
    if render.wants_json(args):
        render.print_json([x.summary() for x in letters])
        return Exit.OK
    render.table(f"dead-letter queue ({len(letters)})", ["id", "execution", "workflow", "failed state", "error", "age"],
                 [(x.message_id, x.execution_arn.rsplit(":", 1)[-1], x.workflow, x.body.get("failed_state"),
                   x.body.get("error"), f"{x.age_s:.0f} s") for x in letters])
    return Exit.OK


def cmd_show(args: argparse.Namespace) -> int:
    dlq, _ = _clients(args)
    [message_id] = _ids(dlq, [args.id])
    letter = dlq.show(message_id)
    detail = letter.detail()
    if render.wants_json(args):
        render.print_json(detail)
    else:
        render.console.print(json.dumps(detail, indent=2, default=str), markup=False)
    return Exit.OK


def cmd_redrive(args: argparse.Namespace) -> int:
    if not args.all and not args.ids:
        raise UsageError("say which messages to redrive: ids, or --all")
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
             r.error or (verb if r.started or r.dry_run else "already started") + ("" if r.dry_run else ", message deleted"))
            for r in results
        ])
    return Exit.NOT_SUCCEEDED if any(r.error for r in results) else Exit.OK


_COMMANDS = {"list": cmd_list, "show": cmd_show, "redrive": cmd_redrive}
