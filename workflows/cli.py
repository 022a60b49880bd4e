"""`fleet`: run the car fleet's workflows locally, on Step Functions Local, or on AWS.

Exit codes: 0 success, 1 a workflow ended other than SUCCEEDED, 2 bad input or environment.
Errors are one line on stderr, never a stack trace.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workflows import catalog


class UsageError(Exception):
    """A problem with what the user asked for: reported as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + error
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="fleet", description="Car fleet workflows on Step Functions, locally and on AWS.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = sub.add_parser("up", help="run the local cloud with an AWS-compatible endpoint")
    up.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    up.add_argument("--aws-port", type=int, default=4566, help="AWS-compatible endpoint port (default 4566)")
    up.add_argument("--api-port", type=int, default=8080, help="REST API port, served as API Gateway would (default 8080)")
    up.add_argument("--faults", metavar="FILE", help="inject faults from a JSON file (off unless given)")

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

    demo = sub.add_parser("demo", help="the whole car lifecycle in a throwaway local cloud, and what happened")
    demo.add_argument("--faults", metavar="FILE", help="inject faults from a JSON file on top of the demo's own")
    from workflows import commands_sfn_local

    commands_sfn_local.register(sub)  # lambda-endpoint, sfn-local
    from workflows import commands_dlq

    commands_dlq.register(sub)  # dlq list | show | redrive
    from workflows import commands_trace

    commands_trace.register(sub)  # trace
    from workflows import commands_lifecycle

    commands_lifecycle.register(sub)  # trip complete | heartbeat, maintenance sign-off, cars, car
    from workflows import commands_cost

    commands_cost.register(sub)  # cost
    from workflows import commands_load

    commands_load.register(sub)  # load
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        handler = getattr(args, "handler", None) or {"up": cmd_up, "run": cmd_run, "demo": cmd_demo}[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# --- run ---------------------------------------------------------------------------------


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
    from workflows.client import MAX_INPUT_BYTES

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
    from workflows import client

    name = args.name or client.execution_name(sm, payload, test_case=args.test_case)
    if args.target == "sfn-local":
        if args.ephemeral:
            raise UsageError("--ephemeral runs in a throwaway local cloud; it does not combine with --target sfn-local")
        from workflows import commands_sfn_local

        sfn, endpoint = commands_sfn_local.prepare_run(args.endpoint_url, sm)
        return _start_and_report(sfn, sm, payload, name, args, endpoint)
    if args.target == "aws":
        if args.ephemeral or args.endpoint_url:
            raise UsageError("--target aws uses the deployed stack; it does not combine with --ephemeral or --endpoint-url")
        from workflows.targets import AwsStack, TargetError

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
    endpoint = client.endpoint_url(args.endpoint_url)
    return _start_and_report(client.sfn_client(endpoint), sm, payload, name, args, endpoint)


def _start_and_report(sfn: Any, sm: catalog.StateMachine, payload: dict, name: str, args: argparse.Namespace,
                      endpoint: str | None = None, arn: str | None = None) -> int:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from workflows import client, render

    try:
        started = client.start(sfn, sm, name, payload, test_case=getattr(args, "test_case", None), arn=arn)
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
        desc = client.wait_for_execution(sfn, execution_arn, args.timeout)
    except TimeoutError as exc:
        raise UsageError(str(exc)) from None
    result = client.describe(sfn, execution_arn, desc)
    render.execution(result)
    return 0 if result.status == "SUCCEEDED" else 1


# --- up ----------------------------------------------------------------------------------


def faults_from(path: str | None) -> Any:
    """`--faults FILE` as a fault hook (None without one); a bad file is a usage error."""
    if not path:
        return None
    from workflows.local.faults import Faults

    try:
        return Faults.from_file(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_up(args: argparse.Namespace) -> int:
    from workflows import render
    from workflows.local.api_gateway import ApiGateway
    from workflows.local.cloud import LocalCloud, resolve
    from workflows.local.server import Servers, bind, bind_aws_endpoint, url

    faults = faults_from(args.faults)
    cloud = LocalCloud(virtual_time=False, fault_hook=faults)  # started once the ports are ours
    gateway = ApiGateway(cloud.runtime)
    try:
        aws = bind_aws_endpoint(args.host, args.aws_port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.aws_port}: {exc.strerror or exc}") from None
    try:
        api = bind(args.host, args.api_port, gateway)
    except OSError as exc:
        aws.server_close()
        raise UsageError(f"cannot listen on {args.host}:{args.api_port}: {exc.strerror or exc}") from None
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("local.api").setLevel(logging.INFO)

    stop = stop_on_signals()
    servers = Servers()
    with cloud:
        from workflows.console import console_app

        gateway.console = console_app(cloud.client("stepfunctions"))
        servers.serve(aws, "aws-endpoint")
        servers.serve(api, "api")
        endpoint = url(aws)
        render.table("deployed", ["kind", "name"], [
            *[("state machine", resolve(catalog.Ref("state_machine", s.logical_id, "arn"))) for s in catalog.STATE_MACHINES],
            *[("function", f.function_name) for f in catalog.FUNCTIONS],
            *[("table", t.table_name) for t in catalog.TABLES],
            *[("queue", resolve(catalog.Ref("queue", q.logical_id, "url"))) for q in catalog.QUEUES],
            *[("event bus", b.bus_name) for b in catalog.BUSES],
        ])
        render.console.print(f"AWS endpoint  {endpoint}   (aws --endpoint-url {endpoint} stepfunctions list-state-machines)")
        render.console.print(f"REST API      {url(api)}   (GET {url(api)}/docs, POST {url(api)}/cars)")
        render.console.print(f"console       {url(api)}/console   (executions and their graphs)")
        if faults:
            render.console.print(f"faults        {args.faults}")
        serve_until(stop, servers)
    return 0


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM (installed before start-up, so a stop during it is kept)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve_until(stop: threading.Event, servers: Any) -> None:
    """Say the servers are ready, wait for the stop, shut them down."""
    from workflows import render

    render.console.print("ready; Ctrl-C to stop", markup=False)
    sys.stdout.flush()
    stop.wait()
    render.console.print("stopping", markup=False)
    servers.shutdown()


# --- demo --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from workflows.demo import run_demo

    return run_demo(faults_from(args.faults))


if __name__ == "__main__":
    sys.exit(main())
