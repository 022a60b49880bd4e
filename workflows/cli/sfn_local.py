"""`fleet lambda-endpoint` and `fleet sfn-local`: the fleet on AWS Step Functions Local.

Step Functions Local (the JAR or the amazon/aws-stepfunctions-local image) runs the state machines;
`fleet lambda-endpoint` serves the catalog's functions on Lambda's Invoke API for its
`LAMBDA_ENDPOINT`; `fleet up` serves DynamoDB and SQS for its `DYNAMODB_ENDPOINT` and `SQS_ENDPOINT`
and, through `--aws-endpoint-url`, for the functions' own AWS SDK calls. See the README section Testing with Step Functions Local.

    fleet up                                   # DynamoDB, SQS, EventBridge on :4566
    fleet lambda-endpoint                      # Lambda on :3001, its SDK calls to :4566
    fleet sfn-local deploy                     # the state machines on :8083
    fleet run register --target sfn-local --input @car.json [--test-case HappyPath]
"""

from __future__ import annotations

import argparse
import os
import socket
from typing import Any
from urllib.parse import urlparse

from workflows.cli import render
from workflows.cli.errors import UsageError
from workflows.cli.inputs import port
from workflows.cli.up import BIND_ERRORS, cannot_listen, faults_from, serve_until, stop_on_signals
from workflows.definitions import catalog
from workflows.targets.target import DEFAULT_SFN_LOCAL_ENDPOINT

DEFAULT_LAMBDA_PORT = 3001


def register(subparsers: Any) -> None:
    """Add `lambda-endpoint` and `sfn-local` to the `fleet` command line."""
    le = subparsers.add_parser(
        "lambda-endpoint",
        help="serve the functions on Lambda's Invoke API (Step Functions Local's LAMBDA_ENDPOINT)",
        description="Serve the catalog's functions on Lambda's Invoke API, in-process with Lambda's contract. "
                    "Point Step Functions Local's LAMBDA_ENDPOINT here; the functions' own AWS calls "
                    "(DynamoDB, EventBridge, ...) go to --aws-endpoint-url, normally `fleet up`.")
    le.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only; "
                    "0.0.0.0 for a Step Functions Local container on a bridge network)")
    le.add_argument("--port", type=port, default=DEFAULT_LAMBDA_PORT, help=f"port (default {DEFAULT_LAMBDA_PORT})")
    le.add_argument("--aws-endpoint-url", metavar="URL",
                    help="where the functions' AWS SDK calls go, exported to them as AWS_ENDPOINT_URL "
                         "(default $FLEET_ENDPOINT_URL or http://127.0.0.1:4566: `fleet up`)")
    le.add_argument("--faults", metavar="FILE", help="inject faults from a JSON file, as `fleet up --faults`")
    le.set_defaults(handler=cmd_lambda_endpoint)

    sl = subparsers.add_parser("sfn-local", help="AWS Step Functions Local: deploy the state machines, list test cases")
    sl_sub = sl.add_subparsers(dest="sfn_local_command", required=True, parser_class=type(sl))
    deploy = sl_sub.add_parser("deploy", help="create, or update, the fleet's state machines on Step Functions Local")
    deploy.add_argument("--endpoint-url", metavar="URL",
                        help=f"Step Functions Local (default $SFN_LOCAL_ENDPOINT or {DEFAULT_SFN_LOCAL_ENDPOINT})")
    render.add_output_option(deploy)
    deploy.set_defaults(handler=cmd_deploy)
    cases = sl_sub.add_parser("test-cases", help="list the test cases of the mock configuration file")
    cases.add_argument("--mock-config", metavar="FILE",
                       help="default $SFN_MOCK_CONFIG, else statemachines/MockConfigFile.json")
    render.add_output_option(cases)
    cases.set_defaults(handler=cmd_test_cases)


# --- Step Functions Local as a target ------------------------------------------------------------


def cmd_deploy(args: argparse.Namespace) -> int:
    from workflows.cli import render
    from workflows.targets import StepFunctionsLocalTarget, TargetError
    from workflows.targets.sfn_local import deploy

    try:
        target = args.target_in_use = StepFunctionsLocalTarget(args.endpoint_url)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    done = deploy(target.client("stepfunctions"), catalog.STATE_MACHINES)
    if render.wants_json(args):
        render.print_json([{"state_machine": name, "deploy": what} for name, what in done])
    else:
        render.table(f"state machines at {target.where}", ["name", "deploy"], done)
    return 0


def cmd_test_cases(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workflows.cli import render
    from workflows.cli.inputs import read_json_file
    from workflows.definitions import mock_config

    try:
        if args.mock_config:  # read with a size limit: a path is whatever the user typed
            config = mock_config.MockConfig.from_dict(read_json_file(args.mock_config, "--mock-config"),
                                                      Path(args.mock_config))
        else:
            config = mock_config.MockConfig.load()
    except mock_config.MockConfigError as exc:
        raise UsageError(str(exc)) from None
    rows = [(sm.workflow, sm.name, case, ", ".join(states))
            for sm in catalog.STATE_MACHINES
            for case, states in config.state_machines.get(sm.name, {}).items()]
    if render.wants_json(args):
        render.print_json({"path": str(config.path), "test_cases": [
            {"workflow": w, "state_machine": n, "test_case": c, "mocked_states": m.split(", ") if m else []}
            for w, n, c, m in rows]})
    else:
        render.table(f"test cases in {config.path}", ["workflow", "state machine", "test case", "mocked states"], rows)
    return 0


# --- the Lambda endpoint --------------------------------------------------------------------------


def cmd_lambda_endpoint(args: argparse.Namespace) -> int:
    import logging

    from workflows.cli import render
    from workflows.local.clock import RealClock
    from workflows.local.lambda_endpoint import LambdaEndpoint
    from workflows.local.lambda_runtime import LambdaRuntime
    from workflows.local.names import function_arn
    from workflows.local.server import Servers, bind, url
    from workflows.targets import EndpointTarget, TargetError

    faults = faults_from(args.faults)
    try:
        aws_endpoint = EndpointTarget(args.aws_endpoint_url).endpoint
    except TargetError as exc:
        raise UsageError(f"--aws-endpoint-url: {exc}") from None
    # Read by every boto3 client the handlers create (botocore >= 1.31): DynamoDB, EventBridge, ...
    os.environ["AWS_ENDPOINT_URL"] = aws_endpoint
    runtime = LambdaRuntime(RealClock(), fault_hook=faults, endpoint_url=aws_endpoint)
    try:
        server = bind(args.host, args.port, LambdaEndpoint(runtime))
    except BIND_ERRORS as exc:
        runtime.shutdown()
        raise UsageError(cannot_listen(args.host, args.port, exc)) from None
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("local.lambda").setLevel(logging.INFO)

    stop = stop_on_signals()
    servers = Servers()
    servers.serve(server, "lambda-endpoint")
    endpoint = url(server)
    render.table("functions", ["function", "ARN for the state machines"],
                 [(f.function_name, function_arn(f)) for f in catalog.FUNCTIONS])
    render.console.print(f"Lambda endpoint  {endpoint}   (Step Functions Local: LAMBDA_ENDPOINT={endpoint})", markup=False)
    render.console.print(f"functions' AWS   {aws_endpoint}   (AWS_ENDPOINT_URL for their SDK calls)", markup=False)
    if not _answers(aws_endpoint):
        render.console.print(f"warning: nothing answers at {aws_endpoint} yet; functions that use DynamoDB or "
                             "EventBridge fail until `fleet up` runs there", markup=False)
    if faults:
        render.console.print(f"faults           {args.faults}", markup=False)
    serve_until(stop, servers)
    runtime.shutdown()
    return 0


def _answers(endpoint: str) -> bool:
    parsed = urlparse(endpoint)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)),
                                      timeout=0.5):
            return True
    except OSError:
        return False
