"""Lambda's API over HTTP: on `fleet up`'s AWS endpoint (`aws lambda list-functions`, `aws lambda
invoke`, boto3) and as `fleet lambda-endpoint` for AWS Step Functions Local's `LAMBDA_ENDPOINT`.

    POST   /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=...]   Invoke
    GET    /2015-03-31/functions/                                           ListFunctions
    GET    /2015-03-31/functions/{FunctionName}[?Qualifier=...]             GetFunction
    GET    /2015-03-31/functions/{FunctionName}/configuration               GetFunctionConfiguration
    POST   /2015-03-31/functions                                            CreateFunction (Python zip)
    PUT    /2015-03-31/functions/{FunctionName}/code                        UpdateFunctionCode (zip)
    DELETE /2015-03-31/functions/{FunctionName}                             DeleteFunction

The catalog's functions are listed with the ones created here (workflows/local/function_registry.py);
the catalog's own run the project's code and are neither updated nor deleted through the API.

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
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from workflows.definitions import catalog
from workflows.local.function_registry import CodeFunction, FunctionApiError, code_dir_of, runtime_of
from workflows.local.lambda_runtime import LambdaRuntime
from workflows.local.local_aws import ACCOUNT_ID, REGION
from workflows.local.names import function_arn, resolve

log = logging.getLogger("local.lambda")

MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's limit on a RequestResponse request
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_LIST = re.compile(r"^/2015-03-31/functions/?$")
_FUNCTION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/?$")
_CONFIGURATION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/configuration/?$")
_CODE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/code/?$")
PATH_PREFIX = "/2015-03-31/functions"
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
        try:
            return self._manage(request, request_id)
        except FunctionApiError as exc:
            return _error(exc.status, exc.code, exc.message, request_id)

    def _manage(self, request: Request, request_id: str) -> Response:
        registry = self.runtime.functions
        if _LIST.match(request.path):
            if request.method == "GET":
                functions = [*catalog.FUNCTIONS, *registry.all()]
                return _json_response(200, {"Functions": [_configuration(f) for f in functions]})
            if request.method == "POST":
                return _json_response(201, _configuration(registry.create(_json_body(request))))
        match = _FUNCTION.match(request.path)
        if match:
            name = unquote(match.group("name"))
            if request.method == "GET":
                known = self._known(name, request.args.get("Qualifier"))
                return _json_response(200, {"Configuration": _configuration(known), "Code": _code(known)})
            if request.method == "DELETE":
                registry.delete(name)
                self.runtime.environments.forget(name)
                return Response(status=204, headers={"x-amzn-RequestId": request_id})
        match = _CONFIGURATION.match(request.path)
        if match and request.method == "GET":
            return _json_response(200, _configuration(self._known(unquote(match.group("name")), request.args.get("Qualifier"))))
        match = _CODE.match(request.path)
        if match and request.method == "PUT":
            name = unquote(match.group("name"))
            updated = registry.update_code(name, _json_body(request))
            self.runtime.environments.forget(name)
            return _json_response(200, _configuration(updated))
        return _error(404, "UnknownOperationException", f"Unknown operation {request.method} {request.path}", request_id)

    def _known(self, name: str, qualifier: str | None) -> catalog.Function:
        try:
            return self.runtime.resolve(name)
        except KeyError:
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            raise FunctionApiError(404, "ResourceNotFoundException",
                                   f"Function not found: {arn}{':' + qualifier if qualifier else ''}") from None

    def _invoke(self, request: Request, name: str, request_id: str) -> Response:
        name = unquote(name)
        qualifier = request.args.get("Qualifier")
        try:
            function = self.runtime.resolve(name)
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
            headers["X-Amz-Log-Result"] = _log_tail(result.record.log_lines() if result.record else [])
        return Response(result.payload, status=200, headers=headers, content_type="application/json")


def _configuration(function: catalog.Function) -> dict[str, Any]:
    variables = dict(function.variables) if isinstance(function, CodeFunction) else \
        {k: (resolve(v) if isinstance(v, catalog.Ref) else v) for k, v in function.environment.items()}
    configuration: dict[str, Any] = {
        "FunctionName": function.function_name,
        "FunctionArn": function_arn(function),
        "Runtime": runtime_of(function),
        "Role": function.role if isinstance(function, CodeFunction) else
        f"arn:aws:iam::{ACCOUNT_ID}:role/{function.function_name}-role",
        "Handler": function.handler,
        "Description": function.description,
        "Timeout": function.timeout_s,
        "MemorySize": function.memory_mb,
        "Version": "$LATEST",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "Environment": {"Variables": variables},
    }
    if isinstance(function, CodeFunction):
        configuration.update(CodeSha256=function.code_sha256, CodeSize=function.code_size,
                             LastModified=function.last_modified)
    return configuration


def _code(function: catalog.Function) -> dict[str, Any]:
    """Where the code is: a created function's unpacked zip, or the project's lambdas/ folder."""
    return {"RepositoryType": "S3", "Location": Path(code_dir_of(function)).as_uri()}


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=False) or b"{}")
    except ValueError:
        raise FunctionApiError(400, "InvalidRequestContentException", "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise FunctionApiError(400, "InvalidRequestContentException", "the request body is not a JSON object")
    return body


def _log_tail(lines: list[str]) -> str:
    """`X-Amz-Log-Type: Tail`: the last 4 KB of the invocation's log, base64, as Lambda answers it."""
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode()
    return base64.b64encode(text[-4096:]).decode()


def _error(status: int, code: str, message: str, request_id: str, headers: dict[str, str] | None = None) -> Response:
    """Lambda's error format: the code in x-amzn-ErrorType, `Type` and `message` in the body."""
    return _json_response(status, {"Type": "User", "message": message},
                          {"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id, **(headers or {})})


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def _log_async_failure(record: dict) -> None:
    log.error("asynchronous invocation failed after its retries: %s", json.dumps(record, default=str)[:2000])
