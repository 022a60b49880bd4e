"""The REST API served locally as API Gateway serves it: each HTTP request becomes a REST API
(v1) Lambda proxy event for the FleetApi function (run by the LambdaRuntime, with Lambda's
contract), and the function's proxy response becomes the HTTP response.

`/health` answers here; `/console` is the local execution console; everything else goes to the
function. One log line per request.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from workflows.definitions import catalog
from workflows.local.http_server import ServerLimits
from workflows.local.lambda_runtime import LambdaRuntime
from workflows.local.local_aws import ACCOUNT_ID
from workflows.local.server import read_at_most

log = logging.getLogger("local.api")

# API Gateway refuses a payload over 10 MB (the server, from its Content-Length, unread); the
# function's synchronous invoke takes at most 6 MB (the front refuses more, in the API's error shape).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
MAX_BODY_BYTES = 6 * 1024 * 1024
# `?wait` requests hold a thread for up to 29 s; the function's own concurrency bounds the rest.
SERVER_LIMITS = ServerLimits(threads=64, max_body_bytes=MAX_PAYLOAD_BYTES)
_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded")

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def proxy_event(request: Request, body: bytes, request_id: str, stage: str = "local") -> dict[str, Any]:
    """The API Gateway REST (v1) proxy event for one HTTP request, as AWS builds it for a custom
    domain mapped to the stage at the root."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers[name] = value  # the last value wins, as in API Gateway's `headers`
        multi_headers.setdefault(name, []).append(value)
    query = {k: request.args.getlist(k)[-1] for k in request.args} or None
    multi_query = {k: request.args.getlist(k) for k in request.args} or None
    content_type = request.headers.get("Content-Type", "")
    is_text = not body or any(content_type.startswith(t) for t in _TEXT_TYPES)
    path = request.path
    now = time.time()
    text: str | None
    if body and is_text:
        # A text body that is not valid UTF-8 is passed on with U+FFFD for the bytes that are not
        # (the function's JSON parsing then refuses it): never a crash of the front.
        text = body.decode("utf-8", errors="replace")
    else:
        text = base64.b64encode(body).decode() if body else None
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            # The local front serves the API at the root, as a custom domain does (API Gateway's own
            # URL has the stage first): the function's links and Swagger UI's calls stay at the root.
            "path": path,
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
            "domainName": request.host,
            "apiId": "local",
        },
        "body": text if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def http_response(result: dict[str, Any]) -> Response:
    """Map a Lambda proxy response back to HTTP."""
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers.set(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.remove(name)
        for v in values:
            headers.add(name, str(v))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return Response(data, status=int(result.get("statusCode", 200)), headers=headers)


def _error(status: int, message: str, request_id: str) -> Response:
    body = json.dumps({"message": message, "request_id": request_id})
    return Response(body, status=status, content_type="application/json",
                    headers={"x-amzn-RequestId": request_id})


class ApiGateway:
    """A WSGI app: API Gateway in front of the FleetApi function."""

    def __init__(self, runtime: LambdaRuntime, console: WsgiApp | None = None):
        self.runtime = runtime
        self.console = console
        self.function = catalog.function("FleetApi")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        if self.console is not None and (request.path == "/console" or request.path.startswith("/console/")):
            return self.console(environ, start_response)
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        try:
            response = self._handle(request, request_id)
        except Exception:
            log.exception("API front failed on %s %s", request.method, request.path)
            response = _error(502, "Internal server error", request_id)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        log.info("%s %s %s %.0fms %s", request.method, request.full_path.rstrip("?"), response.status_code,
                 (time.perf_counter() - started) * 1000, request_id)
        return response(environ, start_response)

    def _handle(self, request: Request, request_id: str) -> Response:
        if request.path == "/health" and request.method in ("GET", "HEAD"):
            return Response('{"status": "ok"}', content_type="application/json")
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return _error(413, f"request body over {MAX_BODY_BYTES} bytes", request_id)
        try:
            body = read_at_most(request.stream, MAX_BODY_BYTES + 1)
        except (OSError, ValueError):  # a malformed chunked body, a client gone mid-body
            return _error(400, "request body could not be read", request_id)
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"request body over {MAX_BODY_BYTES} bytes", request_id)
        event = proxy_event(request, body, request_id)
        result = self.runtime.invoke(self.function.function_name, json.dumps(event))
        if result.error_code == "TooManyRequestsException":
            return _error(429, "Too Many Requests", request_id)
        if result.function_error or result.error_code:
            # API Gateway answers a failed integration with 502 and a fixed message: the
            # function's error never reaches the client.
            log.error("FleetApi failed: %s", result.payload[:500])
            return _error(502, "Internal server error", request_id)
        try:
            return http_response(result.json())
        except (ValueError, TypeError, AttributeError):
            return _error(502, "Internal server error", request_id)
