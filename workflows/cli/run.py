"""`fleet run`: start a workflow execution on a target, wait for it, report it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workflows.cli.errors import UsageError
from workflows.definitions import catalog


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="start a workflow execution and wait for it")
    run.add_argument("workflow", help="|".join(sm.workflow for sm in catalog.STATE_MACHINES))
    run.add_argument("--input", required=True, help="JSON text, or @file.json")
    run.add_argument("--endpoint-url", help="local cloud endpoint (default $FLEET_ENDPOINT_URL or http://127.0.0.1:4566)")
    run.add_argument("--ephemeral", action="store_true", help="run in a throwaway in-process cloud instead")
    run.add_argument("--no-wait", action="store_true", help="print the execution ARN and return")
    run.add_argument("--name", help="execution name (default: derived from the request, so retries are idempotent)")
    run.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the execution (default 60)")
    run.add_argument("--target", choices=("local", "sfn-local", "aws"), default="local",
                     help="local: the local cloud (default); sfn-local: AWS Step Functions Local at --endpoint-url "
                          "(default $SFN_LOCAL_ENDPOINT or http://localhost:8083), state machines deployed on first use; "
                          "aws: the deployed stack (--stack), with your AWS credentials")
    run.add_argument("--stack", help="with --target aws: the stack name (default $FLEET_STACK or CarFleet)")
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
    from workflows.targets.stepfunctions import MAX_INPUT_BYTES

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
    if args.target == "sfn-local":
        if args.ephemeral:
            raise UsageError("--ephemeral runs in a throwaway local cloud; it does not combine with --target sfn-local")
        from workflows.cli import sfn_local

        sfn, endpoint = sfn_local.prepare_run(args.endpoint_url, sm)
        return _start_and_report(sfn, sm, payload, name, args, endpoint)
    if args.target == "aws":
        if args.ephemeral or args.endpoint_url:
            raise UsageError("--target aws uses the deployed stack; it does not combine with --ephemeral or --endpoint-url")
        from workflows.targets.aws import AwsStack, TargetError

        try:
            stack = AwsStack.connect(args.stack)
            arn = stack.state_machine_arn(sm)
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        return _start_and_report(stack.client("stepfunctions"), sm, payload, name, args, arn=arn)
    if args.ephemeral:
        from workflows.local.cloud import LocalCloud

        with LocalCloud(virtual_time=True) as cloud:
            return _start_and_report(cloud.client("stepfunctions"), sm, payload, name, args)
    endpoint = stepfunctions.endpoint_url(args.endpoint_url)
    return _start_and_report(stepfunctions.sfn_client(endpoint), sm, payload, name, args, endpoint)


def _start_and_report(sfn: Any, sm: catalog.StateMachine, payload: dict, name: str, args: argparse.Namespace,
                      endpoint: str | None = None, arn: str | None = None) -> int:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from workflows.cli import render
    from workflows.targets import stepfunctions

    try:
        started = stepfunctions.start(sfn, sm, name, payload, test_case=getattr(args, "test_case", None), arn=arn)
    except EndpointConnectionError:
        raise UsageError(f"no local cloud answers at {endpoint}: start one with `fleet up`, or pass --ephemeral") from None
    except LookupError as exc:
        raise UsageError(f"{exc} (is this the fleet's stack?)") from None
    except ClientError as exc:
        raise UsageError(f"{sm.workflow} not started: {exc.response['Error'].get('Message') or exc}") from None
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
