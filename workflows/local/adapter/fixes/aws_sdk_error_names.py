"""An `aws-sdk:` integration's error is named after the service as AWS's SDK names it, with
`Exception` appended to the error code: `S3.NoSuchBucketException`, `SecretsManager.
ResourceNotFoundException`, `DynamoDb.ConditionalCheckFailedException`, `Sfn.InvalidTokenException`;
and its cause ends with `(Service: S3, Status Code: 404, Request ID: ..., Extended Request ID: ...)`.
moto knows two services' names (DynamoDb, Sfn) and uses the lower-case API name for the rest
(`s3.NoSuchBucketException`, "Service: s3"), so a `Catch` on AWS's name never matches."""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Callable
from typing import Any

import botocore.session
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk

from workflows.local.adapter.seam import Seam

_session = botocore.session.get_session()
_BOTOCORE_NAMES = {"sfn": "stepfunctions"}  # the ASL's service names botocore knows by another


def sdk_service_name(service: str) -> str:
    """The SDK's name of a service from its API name: botocore's serviceId, one word, each run of
    capitals but its first letter in lower case (Java SDK v2's class names): S3, SecretsManager,
    DynamoDb, Sfn, Sqs, Ec2, EventBridge."""
    try:
        service_id = _session.get_service_model(_BOTOCORE_NAMES.get(service.lower(), service.lower())).service_id
    except Exception:  # noqa: BLE001 - a name botocore does not know: as it was given
        return service
    words = [re.sub(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|$)", lambda m: m[0][0] + m[0][1:].lower(), w) for w in str(service_id).split()]
    return "".join(w[:1].upper() + w[1:] for w in words)


def _extended_request_id() -> str:
    return base64.b64encode(os.urandom(48)).decode()


def normalise_service_error_name(service_name: str) -> str:
    return sdk_service_name(service_name)


def _from_error(from_error: Callable[[Any, Any, Exception], Any]) -> Callable[[Any, Any, Exception], Any]:
    @functools.wraps(from_error)
    def run(task: Any, env: Any, ex: Exception) -> Any:
        response = getattr(ex, "response", None)
        if isinstance(response, dict) and task.resource.api_name.lower() == "s3":
            # S3 answers every request with an extended request id (x-amz-id-2).
            response.setdefault("ResponseMetadata", {}).setdefault("HostId", _extended_request_id())
        return from_error(task, env, ex)

    return run


SEAM = Seam(__name__, "aws-sdk integration errors are named after the service as AWS's SDK names it",
            corrects="moto 5.2.5 names them after the lower-case API name (s3.NoSuchBucketException)")
SEAM.replace(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "_normalise_service_error_name",
             staticmethod(normalise_service_error_name))
SEAM.wrap(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "_from_error", _from_error)
