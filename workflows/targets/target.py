"""One Target per place the fleet runs, handing out clients and resolving names for every command.

    target = Target.select("local", endpoint_url=None, stack=None)   # what --target/--endpoint-url/--stack ask for
    sfn = target.client("stepfunctions")
    target.state_machine_arn(catalog.workflow("register"))
    target.table_name("Cars"), target.queue_url("Dlq")

| kind        | Step Functions                         | DynamoDB, SQS, ...              | names                      |
|-------------|----------------------------------------|---------------------------------|----------------------------|
| in-process  | the LocalCloud in this process         | the same                        | the local account's        |
| local       | `fleet up` at --endpoint-url            | the same endpoint               | the local account's        |
| sfn-local   | Step Functions Local at --endpoint-url | `fleet up` ($FLEET_ENDPOINT_URL) | the local account's        |
| aws         | AWS, with the user's credentials       | AWS                             | the stack's outputs        |

Local endpoints always get the local account's region and dummy credentials (local/local_aws.py),
connect and read timeouts of a few seconds, and a short wait for a stack that is still starting
(`fleet up &` followed at once by a command). Whatever goes wrong talking to a target becomes one
TargetError line through `explain`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from workflows.definitions import catalog, naming
from workflows.definitions.catalog import Ref

TARGETS = ("local", "sfn-local", "aws")  # what --target accepts; in-process is `fleet run --ephemeral`
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_SFN_LOCAL_ENDPOINT = "http://localhost:8083"

# A silent endpoint is an error after seconds, not minutes; one retry covers a dropped connection.
# $FLEET_READ_TIMEOUT_S overrides the read timeout (a far endpoint, a slow machine).
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 10.0
# How long a command waits for a local endpoint to answer at all before its first call: `fleet up`
# listens about 1-2 s after it starts and answers once its cloud is deployed (bench/results), so
# `fleet up &` followed at once by a command works. $FLEET_READY_WAIT_S overrides.
READY_WAIT_S = 15.0
REFUSED_WAIT_S = 5.0  # of which this long while nothing even listens


class TargetError(Exception):
    """The target cannot be used (not reachable, not the fleet's stack, no credentials): one line."""


class NotThere(TargetError):
    """The target answered that what was asked for does not exist there."""


class ValueRefused(TargetError):
    """The target refused a value the user gave (a malformed ARN, a name it does not accept)."""


# Services' error codes for "no such thing" and for "that value is not acceptable".
_NOT_THERE = {"ExecutionDoesNotExist", "StateMachineDoesNotExist", "ResourceNotFoundException", "ResourceNotFound",
              "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "ActivityDoesNotExist",
              "TaskDoesNotExist"}
_VALUE_REFUSED = {"InvalidArn", "ValidationException", "InvalidName", "InvalidExecutionInput", "InvalidToken",
                  "InvalidOutput", "InvalidParameterValue", "InvalidParameterValueException", "SerializationException",
                  "ReceiptHandleIsInvalid", "InvalidDefinition"}


class Target:
    """Where a command's calls go. Subclasses say how clients are made and names resolved."""

    kind = ""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    # --- what every target answers --------------------------------------------------------------

    @property
    def where(self) -> str:
        """Where it points, for messages: `http://127.0.0.1:4566`, `AWS stack CarFleet`."""
        raise NotImplementedError

    def client(self, service: str) -> Any:
        c = self._clients.get(service)
        if c is None:
            c = self._clients[service] = self._make_client(service)
        return c

    def resolve(self, ref: Ref) -> str:
        from workflows.local.names import resolve

        return resolve(ref)

    def state_machine_arn(self, sm: catalog.StateMachine) -> str:
        return self.resolve(Ref("state_machine", sm.logical_id, "arn"))

    def fleet_state_machines(self) -> list[str]:
        """The ARNs of the fleet's state machines deployed here (where an execution name is looked for)."""
        return [self.state_machine_arn(sm) for sm in catalog.STATE_MACHINES]

    def table_name(self, logical_id: str) -> str:
        return self.resolve(Ref("table", logical_id, "name"))

    def queue_url(self, logical_id: str) -> str:
        return self.resolve(Ref("queue", logical_id, "url"))

    def prepare(self, sm: catalog.StateMachine) -> None:
        """Make `sm` runnable here before a start (Step Functions Local deploys it on first use)."""

    def unreachable(self, url: str | None = None) -> str:
        """What to say when nothing answers (at `url`, when the failed call says where)."""
        return f"nothing answers at {url or self.where}"

    # --- how --------------------------------------------------------------------------------------

    def _make_client(self, service: str) -> Any:
        raise NotImplementedError

    @staticmethod
    def select(kind: str = "local", endpoint_url: str | None = None, stack: str | None = None) -> Target:
        """The target the command-line options ask for (--target, --endpoint-url, --stack)."""
        if kind == "aws":
            if endpoint_url:
                raise TargetError("--target aws talks to AWS itself; it does not combine with --endpoint-url")
            return AwsTarget(stack)
        if stack:
            raise TargetError("--stack goes with --target aws")
        if kind == "sfn-local":
            return StepFunctionsLocalTarget(endpoint_url)
        if kind == "local":
            return EndpointTarget(endpoint_url)
        raise TargetError(f"--target must be one of {', '.join(TARGETS)}, got {kind!r}")


class InProcessTarget(Target):
    """A LocalCloud running in this process (`fleet run --ephemeral`, the demo, `fleet up`'s console)."""

    kind = "in-process"

    def __init__(self, cloud: Any):
        super().__init__()
        self.cloud = cloud

    @property
    def where(self) -> str:
        return "the local cloud in this process"

    def client(self, service: str) -> Any:
        return self.cloud.client(service)


class EndpointTarget(Target):
    """`fleet up`'s AWS-compatible endpoint (or anything serving the same APIs)."""

    kind = "local"

    def __init__(self, endpoint_url: str | None = None):
        super().__init__()
        self.endpoint = endpoint_url or os.environ.get("FLEET_ENDPOINT_URL") or DEFAULT_ENDPOINT
        check_endpoint_url(self.endpoint)
        self._ready: set[str] = set()

    @property
    def where(self) -> str:
        return self.endpoint

    def unreachable(self, url: str | None = None) -> str:
        return f"no local cloud answers at {self.endpoint}: start one with `fleet up`"

    def endpoint_for(self, service: str) -> str:
        return self.endpoint

    def _make_client(self, service: str) -> Any:
        from botocore.config import Config

        endpoint = self.endpoint_for(service)
        if endpoint not in self._ready:
            wait_until_ready(endpoint)
            self._ready.add(endpoint)
        from workflows.local import local_aws

        return local_aws.client(service, endpoint, Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=read_timeout_s(),
                                                          retries={"mode": "standard", "total_max_attempts": 2}))

    def fleet_state_machines(self) -> list[str]:
        from workflows.trace.model import machines_named

        return machines_named(self.client("stepfunctions"), [sm.name for sm in catalog.STATE_MACHINES])

    def state_machine_arn(self, sm: catalog.StateMachine) -> str:
        from workflows.targets.stepfunctions import state_machine_arn

        return state_machine_arn(self.client("stepfunctions"), sm)

    def queue_url(self, logical_id: str) -> str:
        queue = next(q for q in catalog.QUEUES if q.logical_id == logical_id)
        return str(self.client("sqs").get_queue_url(QueueName=queue.queue_name)["QueueUrl"])


class StepFunctionsLocalTarget(EndpointTarget):
    """AWS Step Functions Local for the state machines; `fleet up` for the services they and the
    functions use (DynamoDB, SQS, EventBridge): where the README's set-up puts them."""

    kind = "sfn-local"

    def __init__(self, endpoint_url: str | None = None, services_url: str | None = None):
        super().__init__(services_url)
        self.services = self.endpoint
        self.endpoint = endpoint_url or os.environ.get("SFN_LOCAL_ENDPOINT") or DEFAULT_SFN_LOCAL_ENDPOINT
        check_endpoint_url(self.endpoint)

    def unreachable(self, url: str | None = None) -> str:
        if url and not url.startswith(self.endpoint):
            return f"no local cloud answers at {self.services} (the services Step Functions Local uses): start `fleet up`"
        return (f"no Step Functions Local answers at {self.endpoint}: start it (the README section Testing with "
                "Step Functions Local) or pass --endpoint-url")

    def endpoint_for(self, service: str) -> str:
        return self.endpoint if service == "stepfunctions" else self.services

    def prepare(self, sm: catalog.StateMachine) -> None:
        from workflows.targets.sfn_local import deploy, with_dependencies

        deploy(self.client("stepfunctions"), with_dependencies(sm))


class AwsTarget(Target):
    """A deployed stack on AWS: boto3's default credentials and region, names from the stack's
    CloudFormation outputs (read on first need: an execution ARN needs no stack)."""

    kind = "aws"

    def __init__(self, stack_name: str | None = None, region: str | None = None):
        super().__init__()
        self.stack_name = stack_name or os.environ.get("FLEET_STACK") or naming.DEFAULT_STACK_NAME
        self.region = region
        self._resolver: Callable[[Ref], str] | None = None
        self._session: Any = None

    @property
    def where(self) -> str:
        return f"AWS stack {self.stack_name}"

    def unreachable(self, url: str | None = None) -> str:
        return f"AWS does not answer{' at ' + url if url else ''}: check the network and the region"

    def in_region(self, region: str | None) -> AwsTarget:
        """The same stack in another region (an execution ARN names its own)."""
        if not region or region == self.region:
            return self
        return AwsTarget(self.stack_name, region)

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self.region)
        return self._session

    def _make_client(self, service: str) -> Any:
        from botocore.config import Config

        return self.session.client(service, config=Config(connect_timeout=5, read_timeout=20,
                                                           retries={"mode": "standard", "total_max_attempts": 3}))

    def resolve(self, ref: Ref) -> str:
        if self._resolver is None:
            self._resolver = naming.resolver_from_outputs(self._outputs())
        try:
            return self._resolver(ref)
        except KeyError as exc:
            raise TargetError(f"stack {self.stack_name} is not the fleet's stack: {exc.args[0]}") from None

    def _outputs(self) -> dict[str, str]:
        from botocore.exceptions import ClientError

        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError as exc:
            raise TargetError(f"stack {self.stack_name}: {exc.response['Error'].get('Message') or exc}") from None
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


# --- endpoints -------------------------------------------------------------------------------------


def check_endpoint_url(url: str) -> None:
    """An endpoint URL boto3 (or an HTTP client) can use: http(s), a host, a port in range."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed [IPv6 address]
        raise TargetError(f"{url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"{url!r} must be an http(s) URL: http(s)://host[:port]")
    try:
        _ = parts.port
    except ValueError:
        raise TargetError(f"the URL has an invalid port: {url!r}") from None


def wait_until_ready(url: str, wait_s: float | None = None) -> None:
    """Give a local endpoint that is still starting a few seconds: until it answers an HTTP request
    (any answer), while it holds connections unanswered (up to wait_s) or refuses them (up to
    REFUSED_WAIT_S). Returns at once for a host that is not this machine, and after the wait
    regardless (the call that follows then reports what is wrong)."""
    import http.client

    wait_s = _seconds("FLEET_READY_WAIT_S", READY_WAIT_S) if wait_s is None else wait_s
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if host not in ("localhost", "127.0.0.1", "::1") or parts.scheme != "http":
        return
    start = time.monotonic()
    deadline = start + wait_s
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(host, port, timeout=min(1.0, max(0.05, deadline - time.monotonic())))
        try:
            conn.request("GET", "/")
            conn.getresponse()
            return
        except ConnectionRefusedError:
            if time.monotonic() - start > REFUSED_WAIT_S:
                return  # nothing is starting there
            time.sleep(0.1)
        except TimeoutError:
            continue  # accepted, not answered yet: a server still starting
        except (OSError, http.client.HTTPException):
            return
        finally:
            conn.close()


def read_timeout_s() -> float:
    return _seconds("FLEET_READ_TIMEOUT_S", READ_TIMEOUT_S)


def _seconds(variable: str, default: float) -> float:
    try:
        value = float(os.environ.get(variable, default))
    except ValueError:
        return default
    return value if 0 <= value < 3600 else default


# --- what went wrong, in one line ------------------------------------------------------------------


def explain(exc: BaseException, target: Target) -> TargetError | None:
    """A botocore failure talking to `target` as one line; None for anything else."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )

    if isinstance(exc, TargetError):
        return exc
    if isinstance(exc, ConnectTimeoutError):
        return TargetError(f"{target.where} did not accept a connection within {CONNECT_TIMEOUT_S:g} s")
    if isinstance(exc, ReadTimeoutError):
        return TargetError(f"{target.where} did not answer within {read_timeout_s():g} s")
    if isinstance(exc, EndpointConnectionError):
        return TargetError(target.unreachable(exc.kwargs.get("endpoint_url")))
    if isinstance(exc, NoCredentialsError):
        return TargetError("no AWS credentials: configure them as for the AWS CLI (aws configure, AWS_PROFILE, SSO), "
                           "or use the local cloud")
    if isinstance(exc, NoRegionError):
        return TargetError("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = error.get("Message") or code or str(exc)
        kind = NotThere if code in _NOT_THERE else ValueRefused if code in _VALUE_REFUSED else TargetError
        return kind(f"{target.where} refused {exc.operation_name}: {message}")
    if isinstance(exc, BotoCoreError):
        return TargetError(f"{target.where}: {exc}")
    return None
