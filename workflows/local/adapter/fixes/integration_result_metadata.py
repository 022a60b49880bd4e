"""A request-response service integration's result carries the HTTP response it came from on AWS:
`SdkHttpMetadata` (the response headers, as lists in `AllHttpHeaders` and single values in
`HttpHeaders`, and `HttpStatusCode`) and `SdkResponseMetadata` (`RequestId`). A state that keeps
the whole result (`ResultPath: "$.putItemOutput"`, `$states.result`) passes them on. moto drops the
SDK's ResponseMetadata and adds nothing, so such outputs differ from AWS's.

The headers are each service's, as AWS answers them (recorded from AWS: Lambda's invoke, DynamoDB's
item calls, SQS's sendMessage, Step Functions' startExecution); Content-Length is the length of the body the service would have sent
(Lambda: the function's JSON as its runtime writes it; the others: compact JSON), Date the local
clock's, the request id a fresh UUID as on AWS.
"""

from __future__ import annotations

import functools
import json
import uuid
import zlib
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_dynamodb,
    state_task_service_lambda,
    state_task_service_sfn,
    state_task_service_sqs,
)

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.fixes.integration_result_timestamps import as_json
from workflows.local.adapter.seam import Seam


def _lambda_headers(result: dict[str, Any], request_id: str) -> dict[str, str]:
    body = json.dumps(result.get("Payload"))  # the Python runtime's json.dumps of the handler's answer
    return {"X-Amz-Executed-Version": str(result.get("ExecutedVersion", "$LATEST")), "x-amzn-Remapped-Content-Length": "0",
            "Connection": "keep-alive", "x-amzn-RequestId": request_id, "Content-Length": str(len(body.encode())),
            "Date": _date(), "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
            "Content-Type": "application/json"}


def _dynamodb_headers(result: dict[str, Any], request_id: str) -> dict[str, str]:
    body = json.dumps(result, separators=(",", ":")).encode()
    return {"Server": "Server", "Connection": "keep-alive", "x-amzn-RequestId": request_id,
            "x-amz-crc32": str(zlib.crc32(body)), "Content-Length": str(len(body)), "Date": _date(),
            "Content-Type": "application/x-amz-json-1.0"}


def _json_protocol_headers(result: dict[str, Any], request_id: str) -> dict[str, str]:
    body = json.dumps(as_json(result), separators=(",", ":")).encode()
    return {"x-amzn-RequestId": request_id, "connection": "keep-alive", "Content-Length": str(len(body)), "Date": _date(),
            "Content-Type": "application/x-amz-json-1.0"}


def _date() -> str:
    return format_datetime(bound.clock.utcnow(), usegmt=True)


def _with_metadata(headers_of: Callable[[dict[str, Any], str], dict[str, str]]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def wrap(eval_service_task: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(eval_service_task)
        def run(task: Any, env: Any, *args: Any, **kwargs: Any) -> None:
            eval_service_task(task, env, *args, **kwargs)
            result = env.stack[-1] if env.stack else None
            if isinstance(result, dict) and "SdkHttpMetadata" not in result:
                request_id = str(uuid.uuid4())
                headers = headers_of(result, request_id)
                result["SdkHttpMetadata"] = {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                                             "HttpStatusCode": 200}
                result["SdkResponseMetadata"] = {"RequestId": request_id}

        return run

    return wrap


SEAM = Seam(__name__, "request-response integration results carry SdkHttpMetadata and SdkResponseMetadata",
            corrects="moto 5.2.5 drops the response metadata of lambda:invoke, dynamodb, sqs and states integrations")
SEAM.wrap(state_task_service_lambda.StateTaskServiceLambda, "_eval_service_task", _with_metadata(_lambda_headers))
SEAM.wrap(state_task_service_dynamodb.StateTaskServiceDynamoDB, "_eval_service_task", _with_metadata(_dynamodb_headers))
SEAM.wrap(state_task_service_sqs.StateTaskServiceSqs, "_eval_service_task", _with_metadata(_json_protocol_headers))
SEAM.wrap(state_task_service_sfn.StateTaskServiceSfn, "_eval_service_task", _with_metadata(_json_protocol_headers))
