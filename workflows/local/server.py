"""`fleet up`: the local cloud as a long-running stack behind an AWS-compatible endpoint.

moto's own WSGI application serves the AWS APIs (Step Functions, DynamoDB, SQS, EventBridge, ...)
from the same in-process backends the state machines use, so the AWS CLI, boto3 and `fleet` see
one shared state.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from workflows.local.admission import Admission, ErrorRenderer
from workflows.local.http_server import DEFAULT_LIMITS, HttpServer, ServerLimits
from workflows.local.local_aws import REGION

log = logging.getLogger("local.up")


def bind(host: str, port: int, app: Any, admission: Admission | None = None,
         error: ErrorRenderer | None = None, limits: ServerLimits = DEFAULT_LIMITS) -> HttpServer:
    """Bind now (so a busy port fails before anything starts); serve later. Raises OSError.
    The app answers only requests its admission lets through (by default: this machine's clients
    and same-origin pages, workflows/local/admission.py); refusals in `error`'s shape."""
    admitted = (admission or Admission.for_server(host)).wrap(app, error or json_error)
    return HttpServer(admitted, host, port, limits)


def bind_aws_endpoint(host: str, port: int, admission: Admission | None = None, lambda_api: Any = None) -> HttpServer:
    """`lambda_api`: the WSGI app that answers Lambda's function API (lambda_endpoint.py), in
    front of moto's (whose functions need Docker to run)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return bind(host, port, AwsEndpointGuard(DomainDispatcherApplication(create_backend_app), lambda_api=lambda_api),
                admission,
                error=lambda start_response, status, message: _aws_error(start_response, status, "AccessDeniedException", message),
                limits=AWS_ENDPOINT_LIMITS)


def json_error(start_response: Any, status: int, message: str) -> list[bytes]:
    """A refusal as the REST API words its errors: {"message", "request_id"}."""
    request_id = str(uuid.uuid4())
    body = json.dumps({"message": message, "request_id": request_id}).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)])
    return [body]


# Far above any real request to these services (DynamoDB's largest is ~16 MB: BatchWriteItem of
# 25 items of 400 KB plus overhead; SQS, EventBridge and Step Functions take at most 1 MB).
MAX_AWS_BODY_BYTES = 16 * 1024 * 1024
# The functions' SDK calls, the CLI's and the console's: short requests (moto answers DynamoDB one
# at a time anyway), a few long polls.
AWS_ENDPOINT_LIMITS = ServerLimits(threads=32, max_body_bytes=MAX_AWS_BODY_BYTES)
# moto's own API (reset, state dumps, its dashboard) and its EC2 instance metadata: not AWS's.
_MOTO_OWN_PATHS = ("/moto-api", "/latest/meta-data", "/latest/api", "/latest/dynamic", "/latest/user-data")
LAMBDA_FUNCTIONS_PATH = "/2015-03-31/functions"
_INTERNAL_FAILURE = "The request processing has failed because of an unknown error, exception or failure."


class AwsEndpointGuard:
    """A WSGI wrapper in front of moto's app: what AWS's front door does before a service runs.

    - a body over MAX_AWS_BODY_BYTES is refused with 413, unread;
    - a JSON-protocol request (application/x-amz-json-*) whose body is not a JSON object is
      refused with 400 SerializationException, as AWS does, before moto parses it;
    - moto's own endpoints (`/moto-api/...`: reset, state dumps) answer 404 like any path that
      is no AWS operation;
    - every request is served by the local cloud's one region (us-east-1), whatever region the
      client signed it for: an AWS CLI configured for eu-west-1 sees the fleet's tables too;
    - moto failing on a request (a parameter missing or of the wrong type, an action it does not
      implement) is answered in AWS's error shape, never a stack trace: 400 ValidationException,
      SerializationException or UnknownOperationException as AWS would, anything else 500
      InternalFailure; the traceback goes to this process's log.
    """

    def __init__(self, app: Any, max_body_bytes: int = MAX_AWS_BODY_BYTES, lambda_api: Any = None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.lambda_api = lambda_api

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(_MOTO_OWN_PATHS):
            return _aws_error(start_response, 404, "UnknownOperationException", "No such AWS operation")
        pin_region(environ)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _aws_error(start_response, 400, "SerializationException", "Content-Length is not a number")
        if length > self.max_body_bytes:
            return _aws_error(start_response, 413, "RequestEntityTooLargeException",
                              f"Request body over {self.max_body_bytes} bytes")
        stream = environ.get("wsgi.input")
        try:
            body = read_at_most(stream, min(length, self.max_body_bytes + 1) if length else self.max_body_bytes + 1) \
                if stream is not None and (length or environ.get("wsgi.input_terminated")) else b""
        except (OSError, ValueError):  # a malformed chunked body, a client gone mid-body
            return _aws_error(start_response, 400, "SerializationException", "The request body could not be read")
        if len(body) > self.max_body_bytes:
            return _aws_error(start_response, 413, "RequestEntityTooLargeException",
                              f"Request body over {self.max_body_bytes} bytes")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if self.lambda_api is not None and environ.get("PATH_INFO", "").startswith(LAMBDA_FUNCTIONS_PATH):
            return self.lambda_api(environ, start_response)
        json_protocol = environ.get("CONTENT_TYPE", "").startswith("application/x-amz-json")
        if json_protocol and body.strip():
            problem = _not_a_json_object(body)
            if problem:
                return _aws_error(start_response, 400, "SerializationException", problem)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("written", []).append(data)

        try:
            chunks = self.app(environ, capture)
            try:
                content = b"".join([*captured.get("written", []), *chunks])
            finally:
                getattr(chunks, "close", lambda: None)()
        except Exception as exc:
            request = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} {environ.get('HTTP_X_AMZ_TARGET', '')}"
            if isinstance(exc, NotImplementedError):
                return _aws_error(start_response, 400, "UnknownOperationException", "The action is not supported here")
            if json_protocol and isinstance(exc, KeyError):
                log.warning("AWS endpoint refused %s: %r", request, exc)
                return _aws_error(start_response, 400, "ValidationException", "A required parameter is missing")
            if json_protocol and isinstance(exc, (TypeError, AttributeError, ValueError)):
                log.warning("AWS endpoint refused %s: %r", request, exc)
                return _aws_error(start_response, 400, "SerializationException",
                                  "A parameter does not have the type the operation takes")
            log.exception("AWS endpoint failed on %s", request)
            return _aws_error(start_response, 500, "InternalFailure", _INTERNAL_FAILURE)
        start_response(captured.get("status", "500 INTERNAL SERVER ERROR"), captured.get("headers", []))
        return [content]


_SIGNED_REGION = re.compile(r"(Credential=[^/,\s]+/\d{8}/)[^/,\s]+/")
_USER_AGENT_REGION = re.compile(r"\bregion/[\w-]+")


def pin_region(environ: dict) -> None:
    """Make a request the local region's: moto takes the region from the SigV4 credential scope
    (or a `region/...` in the User-Agent). The local cloud checks no signature, so the scope is
    rewritten rather than refused."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization:
        environ["HTTP_AUTHORIZATION"] = _SIGNED_REGION.sub(rf"\g<1>{REGION}/", authorization, count=1)
    agent = environ.get("HTTP_USER_AGENT")
    if agent:
        environ["HTTP_USER_AGENT"] = _USER_AGENT_REGION.sub(f"region/{REGION}", agent)


def read_at_most(stream: Any, limit: int) -> bytes:
    """Up to `limit` bytes of a request body. A chunked body's stream answers one chunk per read,
    so read until the body ends or the limit is reached."""
    parts, size = [], 0
    while size < limit:
        part = stream.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _not_a_json_object(body: bytes) -> str | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "The request body is not UTF-8"
    except RecursionError:
        return "The request body nests too deeply"
    except ValueError:  # JSONDecodeError, or a number too long to convert
        return "The request body is not valid JSON"
    return None if isinstance(value, dict) else "The request body is not a JSON object"


def _aws_error(start_response: Any, status: int, error_type: str, message: str) -> list[bytes]:
    """An error in the JSON protocol's shape (what boto3 and the AWS CLI parse)."""
    body = json.dumps({"__type": error_type, "message": message}).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body))),
        ("x-amzn-ErrorType", error_type), ("x-amzn-RequestId", str(uuid.uuid4())),
    ])
    return [body]


# How long a stop waits for requests already received (a `?wait` request runs up to 29 s).
DRAIN_TIMEOUT_S = 30.0


@dataclass
class Servers:
    """The HTTP servers of one `fleet up`, each on its own thread."""

    servers: list[HttpServer] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def serve(self, server: HttpServer, name: str) -> None:
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        self.servers.append(server)
        self.threads.append(thread)

    def stop_accepting(self) -> None:
        """New connections are refused (and the ports free for a new `fleet up`) from now on."""
        for server in self.servers:
            server.stop_accepting()

    def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> bool:
        """Every request already received gets its answer (within timeout_s): True if all did."""
        self.stop_accepting()
        deadline = time.monotonic() + timeout_s
        return all([server.drain(max(0.0, deadline - time.monotonic())) for server in self.servers])

    def shutdown(self) -> None:
        for server in self.servers:
            server.shutdown()
        for thread in self.threads:
            thread.join(timeout=5)


def url(server: HttpServer) -> str:
    host, port = server.server_address
    return f"http://{host}:{port}"
