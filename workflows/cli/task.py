"""`fleet task success|failure|heartbeat <execution>`: answer a state that waits for its task token,
on any target, without knowing the token: it is read from the execution's history
(workflows/trace/tokens.py), as the console's actions do.

    fleet task success dispatch-r-1 --task-output '{"odometer_km": 12}'
    fleet task failure maintenance-car-1 --error SignOffRefused --cause "brakes worn"
    fleet task heartbeat dispatch-r-1 --state StartTrip

For the fleet's own waits, `fleet trip complete` and `fleet maintenance sign-off` are the better
answer: they record the result on the ride or the job as well. A state that is not waiting is one
line and exit 1, as for those.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from workflows.cli import render
from workflows.cli.errors import Exit, NotFound, UsageError
from workflows.cli.inputs import read_json
from workflows.cli.targeting import add_target_options, execution_from

MAX_TASK_OUTPUT_BYTES = 256 * 1024  # SendTaskSuccess's limit
MAX_ERROR_CHARS = 256  # SendTaskFailure's `error`
MAX_CAUSE_CHARS = 32_768  # and its `cause`


def register(sub: Any) -> None:
    task = sub.add_parser("task", help="answer a state waiting for its task token: success, failure or heartbeat")
    task_sub = task.add_subparsers(dest="task_command", required=True, parser_class=type(task))
    for name, help_text in (("success", "send the waiting state its result (SendTaskSuccess)"),
                            ("failure", "fail the waiting state with an error (SendTaskFailure)"),
                            ("heartbeat", "keep the waiting state's heartbeat alive (SendTaskHeartbeat)")):
        p = task_sub.add_parser(name, help=help_text)
        p.add_argument("execution", help="execution ARN, name, or the start of a name")
        p.add_argument("--state", help="the waiting state's name, when several wait")
        if name == "success":
            p.add_argument("--task-output", default="{}", metavar="JSON",
                           help="the result, JSON text or @file (default {})")
        if name == "failure":
            p.add_argument("--error", default="TaskFailed", help="the error name the state's Catch sees")
            p.add_argument("--cause", default="", help="the cause, text")
        add_target_options(p)
        render.add_output_option(p)
        p.set_defaults(handler=cmd_task, action=name)


def cmd_task(args: argparse.Namespace) -> int:
    from workflows.trace.model import load_trace
    from workflows.trace.tokens import token_waits

    output = read_json(args.task_output, "--task-output", MAX_TASK_OUTPUT_BYTES) if args.action == "success" else None
    if args.action == "failure" and (len(args.error) > MAX_ERROR_CHARS or len(args.cause) > MAX_CAUSE_CHARS):
        raise UsageError(f"--error is at most {MAX_ERROR_CHARS} characters and --cause {MAX_CAUSE_CHARS}")
    target, arn = execution_from(args, args.execution)
    sfn = target.client("stepfunctions")
    trace = load_trace(sfn, arn)
    waits = token_waits(trace)
    if args.state:
        waits = [w for w in waits if args.state in (w.state, w.node_id)]
    if not waits:
        what = f"state {args.state} of " if args.state else ""
        render.notes.print(f"fleet: {what}execution {trace.name} is {trace.status}, not waiting for a task token",
                           markup=False)
        return Exit.NOT_SUCCEEDED
    if len({w.state for w in waits}) > 1:
        raise UsageError(f"several states wait ({', '.join(sorted({w.state for w in waits}))}): say which with --state")
    wait = waits[0]
    if wait.token is None:
        raise NotFound(f"the history of {trace.name} does not show {wait.state}'s task token (the ASL does not pass "
                       "$$.Task.Token in its Parameters)")
    if args.action == "success":
        sfn.send_task_success(taskToken=wait.token, output=json.dumps(output))
    elif args.action == "failure":
        sfn.send_task_failure(taskToken=wait.token, error=args.error, cause=args.cause)
    else:
        sfn.send_task_heartbeat(taskToken=wait.token)
    if render.wants_json(args):
        render.print_json({"execution_arn": arn, "state": wait.state, "sent": args.action})
    else:
        render.console.print(f"{wait.state} of {trace.name}: task {args.action} sent", markup=False)
    return Exit.OK
