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
import json
import os
import socket
from typing import Any
from urllib.parse import urlparse

from workflows.cli.errors import UsageError
from workflows.cli.up import faults_from, serve_until, stop_on_signals
from workflows.definitions import catalog

DEFAULT_SFN_LOCAL_ENDPOINT = "http://localhost:8083"
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
    le.add_argument("--port", type=int, default=DEFAULT_LAMBDA_PORT, help=f"port (default {DEFAULT_LAMBDA_PORT})")
    le.add_argument("--aws-endpoint-url", metavar="URL",
                    help="where the functions' AWS SDK calls go, exported to them as AWS_ENDPOINT_URL "
                         "(default $FLEET_ENDPOINT_URL or http://127.0.0.1:4566: `fleet up`)")
    le.add_argument("--faults", metavar="FILE", help="inject faults from a JSON file, as `fleet up --faults`")
    le.set_defaults(handler=cmd_lambda_endpoint)

    sl = subparsers.add_parser("sfn-local", help="AWS Step Functions Local: deploy the state machines, list test cases")
    sl_sub = sl.add_subparsers(dest="sfn_local_command", required=True)
    deploy = sl_sub.add_parser("deploy", help="create, or update, the fleet's state machines on Step Functions Local")
    deploy.add_argument("--endpoint-url", metavar="URL",
                        help=f"Step Functions Local (default $SFN_LOCAL_ENDPOINT or {DEFAULT_SFN_LOCAL_ENDPOINT})")
    deploy.set_defaults(handler=cmd_deploy)
    cases = sl_sub.add_parser("test-cases", help="list the test cases of the mock configuration file")
    cases.add_argument("--mock-config", metavar="FILE",
                       help="default $SFN_MOCK_CONFIG, else statemachines/MockConfigFile.json")
    cases.set_defaults(handler=cmd_test_cases)


# --- Step Functions Local as a target ------------------------------------------------------------


def endpoint_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("SFN_LOCAL_ENDPOINT") or DEFAULT_SFN_LOCAL_ENDPOINT


def deploy(sfn: Any, state_machines: tuple[catalog.StateMachine, ...] = catalog.STATE_MACHINES) -> list[tuple[str, str]]:
    """Create each state machine, or update it if its definition changed: [(name, what happened)].

    Definitions are substituted exactly as for the local cloud (workflows.local.cloud.definition):
    Lambda ARNs arn:aws:lambda:us-east-1:123456789012:function:<name>, which Step Functions Local
    forwards to its LAMBDA_ENDPOINT, and table, queue and bus names as `fleet up` has them.
    """
    from workflows.local.cloud import STATE_MACHINE_ROLE, definition

    existing = {m["name"]: m["stateMachineArn"]
                for page in sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]}
    done = []
    for sm in state_machines:
        text = definition(sm)
        arn = existing.get(sm.name)
        if arn is None:
            sfn.create_state_machine(name=sm.name, definition=text, roleArn=STATE_MACHINE_ROLE, type=sm.type)
            done.append((sm.name, "created"))
        elif json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) != json.loads(text):
            sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=STATE_MACHINE_ROLE)
            done.append((sm.name, "updated"))
        else:
            done.append((sm.name, "unchanged"))
    return done


def with_dependencies(sm: catalog.StateMachine) -> tuple[catalog.StateMachine, ...]:
    """The state machine and those it starts (its ${...StateMachineArn} placeholders), transitively."""
    found: dict[str, catalog.StateMachine] = {}
    todo = [sm]
    while todo:
        current = todo.pop()
        if current.logical_id in found:
            continue
        found[current.logical_id] = current
        for key in current.placeholders():
            ref = catalog.SUBSTITUTIONS.get(key)
            if ref is not None and ref.kind == "state_machine":
                todo.append(catalog.state_machine(ref.logical_id))
    return tuple(found.values())


def prepare_run(explicit_endpoint: str | None, sm: catalog.StateMachine) -> tuple[Any, str]:
    """For `fleet run --target sfn-local`: a client for Step Functions Local, with `sm` (and what it
    starts) deployed and up to date, so the first run needs no separate deploy."""
    from workflows.targets import stepfunctions

    endpoint = endpoint_url(explicit_endpoint)
    sfn = stepfunctions.sfn_client(endpoint)
    _sync(sfn, endpoint, with_dependencies(sm))
    return sfn, endpoint


def _sync(sfn: Any, endpoint: str, state_machines: tuple[catalog.StateMachine, ...]) -> list[tuple[str, str]]:
    from botocore.exceptions import ClientError, EndpointConnectionError

    try:
        return deploy(sfn, state_machines)
    except EndpointConnectionError:
        raise UsageError(f"no Step Functions Local answers at {endpoint}: start it (the README section Testing with Step Functions Local) "
                         "or pass --endpoint-url") from None
    except ClientError as exc:
        raise UsageError(f"deploying to {endpoint} failed: {exc.response['Error'].get('Message') or exc}") from None


def cmd_deploy(args: argparse.Namespace) -> int:
    from workflows.cli import render
    from workflows.targets import stepfunctions

    endpoint = endpoint_url(args.endpoint_url)
    done = _sync(stepfunctions.sfn_client(endpoint), endpoint, catalog.STATE_MACHINES)
    render.table(f"state machines at {endpoint}", ["name", "deploy"], done)
    return 0


def cmd_test_cases(args: argparse.Namespace) -> int:
    from workflows.cli import render
    from workflows.definitions import mock_config

    try:
        config = mock_config.MockConfig.load(args.mock_config)
    except mock_config.MockConfigError as exc:
        raise UsageError(str(exc)) from None
    rows = [(sm.workflow, sm.name, case, ", ".join(states))
            for sm in catalog.STATE_MACHINES
            for case, states in config.state_machines.get(sm.name, {}).items()]
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
    from workflows.targets import stepfunctions

    faults = faults_from(args.faults)
    aws_endpoint = stepfunctions.endpoint_url(args.aws_endpoint_url)
    if urlparse(aws_endpoint).scheme not in ("http", "https") or not urlparse(aws_endpoint).netloc:
        raise UsageError(f"--aws-endpoint-url must be an http(s) URL, got {aws_endpoint!r}")
    # Read by every boto3 client the handlers create (botocore >= 1.31): DynamoDB, EventBridge, ...
    os.environ["AWS_ENDPOINT_URL"] = aws_endpoint
    runtime = LambdaRuntime(RealClock(), fault_hook=faults)
    try:
        server = bind(args.host, args.port, LambdaEndpoint(runtime))
    except OSError as exc:
        runtime.shutdown()
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
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
