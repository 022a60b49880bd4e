"""`fleet run`: start a workflow execution on a target, wait for it, report it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workflows.cli.errors import UsageError
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
    run.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the execution (default 60)")
    run.add_argument("--test-case", metavar="NAME",
                     help="run a test case of statemachines/MockConfigFile.json (mocked service integrations), "
                          "started as <stateMachineArn>#NAME on either target")
    run.set_defaults(handler=cmd_run)


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null"}


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def read_input(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read input file {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"input file {path} is not UTF-8 text (byte {exc.start})") from None
    try:
        payload = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--input is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # NaN or Infinity, or a number too long for Python to convert
        raise UsageError(f"--input is not valid JSON: {str(exc).split(';')[0]}") from None
    except RecursionError:
        raise UsageError("--input is not valid JSON: nested too deeply") from None
    if not isinstance(payload, dict):
        raise UsageError(f"--input must be a JSON object, got {_JSON_TYPES.get(type(payload), 'something else')}")
    from fleet_domain.executions import MAX_INPUT_BYTES

    size = len(json.dumps(payload).encode())
    if size > MAX_INPUT_BYTES:
        raise UsageError(f"--input is {size} bytes; Step Functions accepts at most {MAX_INPUT_BYTES}")
    return payload


def cmd_run(args: argparse.Namespace) -> int:
    try:
        sm = catalog.workflow(args.workflow)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    payload = read_input(args.input)
    from workflows.targets import stepfunctions

    name = args.name or stepfunctions.execution_name(sm, payload, test_case=args.test_case)
    if args.ephemeral:
        if args.target != "local" or args.endpoint_url or args.stack:
            raise UsageError("--ephemeral runs in a throwaway in-process cloud; it does not combine with "
                             "--target, --endpoint-url or --stack")
        from workflows.local.cloud import LocalCloud
        from workflows.targets import InProcessTarget
        from workflows.targets.local import claim_process_environment

        claim_process_environment()
        with LocalCloud(virtual_time=True) as cloud:
            args.target_in_use = InProcessTarget(cloud)
            return _start_and_report(args.target_in_use, sm, payload, name, args)
    return _start_and_report(target_from(args), sm, payload, name, args)


def _start_and_report(target: Target, sm: catalog.StateMachine, payload: dict, name: str,
                      args: argparse.Namespace) -> int:
    from workflows.cli import render
    from workflows.targets import stepfunctions

    target.prepare(sm)
    sfn = target.client("stepfunctions")
    try:
        arn = target.state_machine_arn(sm)
    except LookupError as exc:
        raise UsageError(f"{exc} (is this the fleet's stack?)") from None
    started = stepfunctions.start(sfn, sm, name, payload, test_case=args.test_case, arn=arn)
    execution_arn = started.execution_arn
    if args.no_wait:
        render.console.print(execution_arn, markup=False)
        return 0
    try:
        desc = stepfunctions.wait_for_execution(sfn, execution_arn, args.timeout)
    except TimeoutError as exc:
        raise UsageError(str(exc)) from None
    result = stepfunctions.describe(sfn, execution_arn, desc)
    render.execution(result)
    return 0 if result.status == "SUCCEEDED" else 1
