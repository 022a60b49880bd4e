"""`fleet run`: start a workflow execution on a target, wait for it, report it."""

from __future__ import annotations

import argparse
from typing import Any

from workflows.cli import render
from workflows.cli.errors import Exit, Unavailable, UsageError
from workflows.cli.inputs import read_json_object, seconds
from workflows.cli.targeting import add_target_options, target_from
from workflows.definitions import catalog
from workflows.targets import Target


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="start a workflow execution and wait for it")
    run.add_argument("workflow", help="|".join(sm.workflow for sm in catalog.STATE_MACHINES))
    run.add_argument("--input", required=True, help="JSON text, or @file.json")
    add_target_options(run)
    run.add_argument("--ephemeral", action="store_true", help="run in a throwaway in-process cloud instead")
    run.add_argument("--no-wait", action="store_true", help="print the execution ARN and return")
    run.add_argument("--name", help="execution name (default: derived from the request, so retries are idempotent)")
    run.add_argument("--timeout", type=seconds, default=60.0,
                     help="seconds to wait for the execution to end (default 60); it stops early when the execution "
                          "waits for a task token, and says which command resumes it")
    run.add_argument("--test-case", metavar="NAME",
                     help="run a test case of statemachines/MockConfigFile.json (mocked service integrations), "
                          "started as <stateMachineArn>#NAME on either target")
    render.add_output_option(run)
    run.set_defaults(handler=cmd_run)


def read_input(text: str) -> dict[str, Any]:
    from fleet_domain.control.executions import MAX_INPUT_BYTES

    return read_json_object(text, "--input", MAX_INPUT_BYTES)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        sm = catalog.workflow(args.workflow)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    payload = read_input(args.input)
    from workflows.targets import stepfunctions

    name = args.name or stepfunctions.execution_name(sm, payload, test_case=args.test_case)
    problem = stepfunctions.name_problem(name)
    if problem:
        raise UsageError(f"--name: {problem}")
    if args.ephemeral:
        if args.target != "local" or args.endpoint_url or args.stack:
            raise UsageError("--ephemeral runs in a throwaway in-process cloud; it does not combine with "
                             "--target, --endpoint-url or --stack")
        from workflows.local.cloud import LocalCloud
        from workflows.targets import InProcessTarget
        with LocalCloud(virtual_time=True) as cloud:
            args.target_in_use = InProcessTarget(cloud)
            return _start_and_report(args.target_in_use, sm, payload, name, args)
    return _start_and_report(target_from(args), sm, payload, name, args)


def _start_and_report(target: Target, sm: catalog.StateMachine, payload: dict[str, Any], name: str,
                      args: argparse.Namespace) -> int:
    from workflows.cli.follow import follow, report, report_data
    from workflows.targets import stepfunctions

    target.prepare(sm)
    sfn = target.client("stepfunctions")
    try:
        arn = target.state_machine_arn(sm)
    except LookupError as exc:
        raise Unavailable(f"{exc} (is this the fleet's stack?)") from None
    started = stepfunctions.start(sfn, sm, name, payload, test_case=args.test_case, arn=arn)
    execution_arn = started.execution_arn
    if args.no_wait:
        if render.wants_json(args):
            render.print_json({"execution_arn": execution_arn, "name": name, "started": started.new})
        else:
            render.console.print(execution_arn, markup=False)
        return Exit.OK
    # The ARN at once (on stderr with --output json, whose stdout is one document): whatever happens
    # next, Ctrl-C included, the user knows which execution it was.
    (render.notes if render.wants_json(args) else render.console).print(f"execution  {execution_arn}", markup=False)
    try:
        followed = follow(sfn, execution_arn, args.timeout)
    except KeyboardInterrupt:
        render.notes.print(f"interrupted: the execution goes on; `fleet trace {name}` shows it", markup=False)
        raise
    if render.wants_json(args):
        render.print_json(report_data(followed))
    else:
        report(followed, args.timeout, header=False)
    return followed.exit_code
