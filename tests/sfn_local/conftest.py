"""Fixtures for the Step Functions Local target: a real Lambda endpoint on a free loopback port,
and Step Functions Local itself when SFN_LOCAL_ENDPOINT says where one runs."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from workflows.local.clock import VirtualClock
from workflows.local.lambda_endpoint import LambdaEndpoint
from workflows.local.lambda_runtime import FaultHook, LambdaRuntime
from workflows.local.server import bind, url

SFN_LOCAL_ENDPOINT = os.environ.get("SFN_LOCAL_ENDPOINT")
SFN_LOCAL_SKIP = (
    "AWS Step Functions Local is not available here (no JAR download, no Docker engine): set "
    "SFN_LOCAL_ENDPOINT=http://localhost:8083 once it runs with SFN_MOCK_CONFIG pointing at "
    "statemachines/MockConfigFile.json (the README section Testing with Step Functions Local)"
)


@dataclass
class Endpoint:
    url: str
    runtime: LambdaRuntime
    clock: VirtualClock

    def client(self) -> Any:
        """boto3's Lambda client against this endpoint, as Step Functions Local's SDK calls it:
        no client-side retries, so every answer is the endpoint's own."""
        return boto3.client("lambda", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": 1}, read_timeout=30))


@pytest.fixture
def lambda_endpoint() -> Iterator[Callable[..., Endpoint]]:
    """A factory: lambda_endpoint(fault_hook=..., on_async_failure=...) -> a served Endpoint.
    The runtime runs on a virtual clock, so a handler that sleeps past its timeout (an injected
    timeout fault) and Event retries' backoff take no wall time."""
    started: list[tuple[Any, LambdaRuntime]] = []

    def start(fault_hook: FaultHook | None = None, on_async_failure: Callable[[dict], None] | None = None) -> Endpoint:
        clock = VirtualClock()
        runtime = LambdaRuntime(clock, fault_hook)
        server = bind("127.0.0.1", 0, LambdaEndpoint(runtime, on_async_failure))
        # A short poll so shutting down takes milliseconds, not serve_forever's default half second.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        started.append((server, runtime))
        return Endpoint(url(server), runtime, clock)

    yield start
    for server, runtime in started:
        server.shutdown()
        server.server_close()
        runtime.shutdown()


@pytest.fixture(scope="session")
def sfn_local() -> Any:
    """A Step Functions client for Step Functions Local, the fleet's state machines deployed there."""
    if not SFN_LOCAL_ENDPOINT:
        pytest.skip(SFN_LOCAL_SKIP)
    from workflows.targets import StepFunctionsLocalTarget
    from workflows.targets.sfn_local import deploy

    sfn = StepFunctionsLocalTarget(SFN_LOCAL_ENDPOINT).client("stepfunctions")
    deploy(sfn)
    return sfn


@pytest.fixture(scope="module")
def shared_fleet() -> Iterator[Any]:
    """One local cloud for a whole module (starting one costs most of a second): for tests that
    leave nothing behind, or clean up what they wrote."""
    from tests.conftest import Fleet
    from workflows.local.cloud import LocalCloud

    with LocalCloud(virtual_time=True) as cloud:
        yield Fleet(cloud)
