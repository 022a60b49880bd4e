"""Lambda's Invoke API over HTTP, for AWS Step Functions Local's `LAMBDA_ENDPOINT` (`fleet lambda-endpoint`).

    POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=...]
    GET  /2015-03-31/functions/                                   (ListFunctions, for a quick look)

Every invocation runs a catalog handler through the LambdaRuntime, so callers get the same contract
as inside the local cloud (DESIGN.md principle 4):

- `X-Amz-Invocation-Type`: RequestResponse (default) answers 200 with the result; Event answers 202
  and runs the function afterwards (`LambdaRuntime.invoke_async`: two retries, then the on-failure
  hook); DryRun answers 204 once the function is known and runs nothing.
- A handler that raised or ran past its timeout answers 200 with `X-Amz-Function-Error: Unhandled`
  and Lambda's error payload ({errorType, errorMessage, stackTrace}); Step Functions turns errorType
  into the error name that `Retry`/`Catch` match.
- Failures of the call itself use Lambda's error format (the code in `x-amzn-ErrorType`, a JSON body
  with the message): 404 ResourceNotFoundException for an unknown function, 429
  TooManyRequestsException when the function is throttled, 400 InvalidRequestContentException for
  a body that is not JSON, 413 RequestTooLargeException past 6 MB.
- The function may be named, ARN'd or qualified (`name:qualifier`, `?Qualifier=`); qualifiers are
  accepted and ignored: every function here has one version, `$LATEST`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from workflows.definitions import catalog
from workflows.local.lambda_runtime import LambdaRuntime
from workflows.local.local_aws import ACCOUNT_ID, REGION
from workflows.local.names import function_arn

log = logging.getLogger("local.lambda")

MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's limit on a RequestResponse request
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_LIST = re.compile(r"^/2015-03-31/functions/?$")
_TYPES = ("RequestResponse", "Event", "DryRun")


class LambdaEndpoint:
    """A WSGI app serving the catalog's functions on Lambda's Invoke API."""

    def __init__(self, runtime: LambdaRuntime, on_async_failure: Callable[[dict], None] | None = None):
        self.runtime = runtime
        # Where an Event invocation goes once its retries are spent (Lambda's on-failure destination).
        self.on_async_failure = on_async_failure or _log_async_failure

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        try:
            response = self._route(request, request_id)
        except Exception:
            log.exception("lambda endpoint failed on %s %s", request.method, request.path)
            response = _error(500, "ServiceException", "An internal error occurred.", request_id)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        log.info("%s %s %s %.0fms", request.method, request.full_path.rstrip("?"), response.status_code,
                 (time.perf_counter() - started) * 1000)
        return response(environ, start_response)

    def _route(self, request: Request, request_id: str) -> Response:
        match = _INVOKE.match(request.path)
        if match:
            if request.method != "POST":
                return _error(405, "MethodNotAllowedException", f"{request.method} is not allowed here", request_id)
            return self._invoke(request, match.group("name"), request_id)
        if _LIST.match(request.path) and request.method == "GET":
            return _json_response(200, {"Functions": [_configuration(f) for f in catalog.FUNCTIONS]})
        return _error(404, "UnknownOperationException", f"Unknown operation {request.method} {request.path}", request_id)

    def _invoke(self, request: Request, name: str, request_id: str) -> Response:
        qualifier = request.args.get("Qualifier")
        try:
            function = catalog.function_by_name(name)
        except KeyError:
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            return _error(404, "ResourceNotFoundException",
                          f"Function not found: {arn}{':' + qualifier if qualifier else ''}", request_id)
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in _TYPES:
            return _error(400, "InvalidParameterValueException",
                          f"Unsupported invocation type {invocation_type!r}: expected one of {', '.join(_TYPES)}",
                          request_id)
        if invocation_type == "DryRun":
            return Response(status=204, headers={"x-amzn-RequestId": request_id})

        body = b"" if (request.content_length or 0) > MAX_SYNC_PAYLOAD_BYTES else request.get_data(cache=False)
        if (request.content_length or len(body)) > MAX_SYNC_PAYLOAD_BYTES:
            return _error(413, "RequestTooLargeException",
                          f"Request must be smaller than {MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
                          request_id)
        if invocation_type == "Event":
            try:
                json.loads(body or b"{}")
            except ValueError as exc:
                return _error(400, "InvalidRequestContentException",
                              f"Could not parse request body into json: {exc}", request_id)
            async_id = self.runtime.invoke_async(function.function_name, body or b"{}",
                                                 on_failure=self.on_async_failure)
            return Response(status=202, headers={"x-amzn-RequestId": async_id})

        result = self.runtime.invoke(function.function_name, body)
        if result.error_code:
            headers = {"Retry-After": "1"} if result.status_code == 429 else {}
            return _error(result.status_code, result.error_code, (result.json() or {}).get("message", ""),
                          result.request_id, headers)
        headers = {"x-amzn-RequestId": result.request_id, "X-Amz-Executed-Version": "$LATEST"}
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            headers["X-Amz-Log-Result"] = _log_tail(function, result.request_id, result.function_error)
        return Response(result.payload, status=200, headers=headers, content_type="application/json")


def _configuration(function: catalog.Function) -> dict[str, Any]:
    return {
        "FunctionName": function.function_name,
        "FunctionArn": function_arn(function),
        "Runtime": "python3.11",
        "Handler": function.handler,
        "Description": function.description,
        "Timeout": function.timeout_s,
        "MemorySize": function.memory_mb,
        "Version": "$LATEST",
    }


def _log_tail(function: catalog.Function, request_id: str, function_error: str | None) -> str:
    """`X-Amz-Log-Type: Tail`: the last lines of the invocation's log, as Lambda reports them."""
    lines = [f"START RequestId: {request_id} Version: $LATEST",
             *([f"[ERROR] {function.function_name} failed ({function_error})"] if function_error else []),
             f"END RequestId: {request_id}",
             f"REPORT RequestId: {request_id}\tMemory Size: {function.memory_mb} MB"]
    return base64.b64encode(("\n".join(lines) + "\n").encode()).decode()


def _error(status: int, code: str, message: str, request_id: str, headers: dict[str, str] | None = None) -> Response:
    """Lambda's error format: the code in x-amzn-ErrorType, `Type` and `message` in the body."""
    return _json_response(status, {"Type": "User", "message": message},
                          {"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id, **(headers or {})})


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def _log_async_failure(record: dict) -> None:
    log.error("asynchronous invocation failed after its retries: %s", json.dumps(record, default=str)[:2000])
