"""The engine's service integrations get their clients here: Lambda calls go to the local
Lambda runtime (in this process, with Lambda's contract); every other service gets a boto3 client
on moto, made with the settings of moto's own factory (no client-side retries, so the state
machine's Retry is the only retry policy, as on AWS)."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import types
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam
from workflows.local.lambda_runtime import LambdaRuntime

ENGINE_PACKAGE = "moto.stepfunctions.parser.asl"
# The same settings as moto's boto_client_for.
CLIENT_CONFIG = Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1})


class InProcessLambdaClient:
    """Quacks like boto3's Lambda client for the one call the engine makes: invoke()."""

    def __init__(self, runtime: LambdaRuntime):
        self._runtime = runtime

    def invoke(self, FunctionName: str, Payload: Any = None, **_ignored: Any) -> dict[str, Any]:
        if isinstance(Payload, dict | list):
            Payload = json.dumps(Payload)
        try:
            result = self._runtime.invoke(FunctionName, Payload)
        except KeyError as exc:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": str(exc).strip("'")},
                 "ResponseMetadata": {"HTTPStatusCode": 404, "RequestId": "local"}},
                "Invoke",
            ) from None
        if result.error_code:
            raise ClientError(
                {"Error": {"Code": result.error_code, "Message": result.json().get("message", "")},
                 "ResponseMetadata": {"HTTPStatusCode": result.status_code, "RequestId": result.request_id}},
                "Invoke",
            )
        response: dict[str, Any] = {
            "StatusCode": result.status_code,
            "ExecutedVersion": "$LATEST",
            "Payload": io.BytesIO(result.payload),
            "ResponseMetadata": {"HTTPStatusCode": result.status_code, "RequestId": result.request_id},
        }
        if result.function_error:
            response["FunctionError"] = result.function_error
        return response


def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    if service == "lambda":
        return InProcessLambdaClient(bound.runtime)
    return boto3.client(service, region_name=region, aws_access_key_id="ak", aws_secret_access_key="sk",
                        config=CLIENT_CONFIG)


def engine_modules() -> list[types.ModuleType]:
    """Every module of moto's ASL engine (imported), so the client factory can be found in each."""
    package = importlib.import_module(ENGINE_PACKAGE)
    modules = []
    for info in pkgutil.walk_packages(package.__path__, ENGINE_PACKAGE + ".", onerror=lambda _name: None):
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:
            continue  # a few LocalStack leftovers in moto import modules moto does not ship
    return modules


def client_users() -> list[types.ModuleType]:
    """The engine modules that ask `boto_client_for` for their clients (every service integration)."""
    return [m for m in engine_modules() if getattr(m, "boto_client_for", None) is not None]


SEAM = Seam(__name__, "service integrations' clients: Lambda in process, the rest on moto")
for _module in client_users():
    SEAM.replace(_module, "boto_client_for", client_for)
