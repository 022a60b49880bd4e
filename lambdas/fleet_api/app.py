"""The API's resolver, shared by every router: one per execution environment,
JSON bodies only, and every error mapped once to `{"message", "details"?, "request_id"}`
(400 a body that is not JSON, with where it stops being JSON; 422 invalid input with the fields
at fault; 404 unknown id or path; 405 a path asked with a method it does not take, with `Allow`;
409 illegal transition or conflicting retry; 415 a body that says it is not JSON). No stack
traces, no 5xx for bad input. The OpenAPI document and Swagger UI (/docs) are served from here,
for the server they are reached on."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import Server, Tag
from pydantic import BaseModel

from fleet_api.errors import ApiError, BadRequest, Invalid, MethodNotAllowed, NotFound, error_body
from fleet_domain.platform.observability import logger
from fleet_domain.rules.requests import nesting_exceeds

TITLE, VERSION = "Car fleet API", "1.0.0"
DESCRIPTION = ("Starts and resumes the car fleet's Step Functions workflows: register a car, request a ride and "
               "report its trip's end, send a car to maintenance and sign it off; the executions they start; "
               "operational failures in the dead-letter queue.\n\n"
               "A POST that starts a workflow answers 202 with the execution and links to follow; with `?wait=N` "
               "it waits up to N seconds for the outcome. Retrying a POST never starts a second execution; with an "
               "`Idempotency-Key` header the retry also gets the first answer back. Lists are paginated: pass the "
               "`next_token` of a page to get the next one. Errors are `{message, details?, request_id}`.")
TAGS: list[Tag | str] = [
    Tag(name="cars", description="The fleet: register a car (the register workflow), list cars, one car's record"),
    Tag(name="rides", description="Request a ride (the dispatch workflow) and report the end of its trip"),
    Tag(name="maintenance", description="Send a car to maintenance (the maintenance workflow) and sign it off"),
    Tag(name="executions", description="The workflow executions the other routes start"),
    Tag(name="dlq", description="Operational failures in the dead-letter queue, and their redrive (operators)"),
    Tag(name="service", description="Liveness"),
]
# Routes outside the OpenAPI document (it and Swagger UI), for 405's Allow.
_UNDOCUMENTED_ROUTES = {"/openapi.json": ["GET"], "/docs": ["GET"]}
# What json.loads raises besides JSONDecodeError, said as the problem it is (no position known).
_TOO_LONG_NUMBER = "a number with more digits than this API reads"
MAX_DEPTH = 64  # the API's bodies nest 3 levels; Python's own limit moves (a library may raise it)
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels"


class _JsonResolver(APIGatewayRestResolver):
    """Powertools' resolver, refusing a body that says it is not JSON before it parses it. It keeps
    the request it serves on itself, which is right: an execution environment serves one request
    at a time."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        unsupported = _unsupported_media_type(event)
        return unsupported or super().resolve(event, context)


def _unsupported_media_type(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Every body this API takes is JSON: any other content type is 415 before Powertools tries to
    parse it (its form and multipart parsers fail on bodies that are not what they claim)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if not event.get("body") or content_type in ("", "application/json"):
        return None
    body = error_body(f"unsupported content type {content_type!r}: send application/json",
                      (event.get("requestContext") or {}).get("requestId") or "")
    return {"statusCode": 415, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body),
            "isBase64Encoded": False}


def _json_body(body: str) -> Any:
    """json.loads, with what it cannot parse (a number past Python's digit limit, nesting past the
    recursion limit) reported as the decode error it is, so Powertools answers 422, not 500."""
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        raise
    except ValueError:
        raise json.JSONDecodeError(_TOO_LONG_NUMBER, body[:100], 0) from None
    except RecursionError:
        raise json.JSONDecodeError(_TOO_DEEP, body[:100], 0) from None
    if nesting_exceeds(value, MAX_DEPTH):
        raise json.JSONDecodeError(_TOO_DEEP, body[:100], 0)
    return value




app = _JsonResolver(enable_validation=True, json_body_deserializer=_json_body)


def serve_docs() -> None:
    """Swagger UI at /docs. Registered with the routers (api.include_routers), not at import:
    Powertools' Swagger UI module builds pydantic models of its own, a cost of the first request
    rather than of the init. Its "Try it out" calls the server the page came from: `/<stage>` on
    API Gateway's own URL, the root on a custom domain and on `fleet up` (Powertools derives it
    from the request)."""
    app.enable_swagger(path="/docs", title=TITLE, version=VERSION, description=DESCRIPTION, tags=TAGS)


def openapi_document() -> str:
    """The OpenAPI document (GET /openapi.json), with the server it was asked from."""
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION, tags=TAGS,
                                       servers=[Server(url=base_path() or "/")])


def base_path() -> str:
    """Where the API is mounted on the host the request reached: `/<stage>` when API Gateway's
    request path starts with the stage (its execute-api URL), else nothing (a custom domain)."""
    context = app.current_event.request_context
    stage = context.stage
    return f"/{stage}" if stage and stage != "$default" and (context.path or "").startswith(f"/{stage}/") else ""


# --- the request ---------------------------------------------------------------------------


def request_id() -> str:
    return app.current_event.request_context.request_id or ""


def json_response(status: int, body: BaseModel | dict[str, Any]) -> Response[Any]:
    payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return Response(status, "application/json", payload)


# --- errors, mapped once -------------------------------------------------------------------


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # (Powertools leaves it untyped)
def _invalid(exc: RequestValidationError) -> Response[Any]:
    unreadable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if unreadable is not None:
        return _error(_malformed_json(unreadable, exc.body if isinstance(exc.body, str) else ""))
    details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:] or e.get("loc", ())), "problem": e.get("msg", "")}
               for e in exc.errors()]
    return _error(Invalid("request is not valid", details))


@app.exception_handler(ApiError)  # type: ignore[untyped-decorator]
def _api_error(exc: ApiError) -> Response[Any]:
    return _error(exc)


def _malformed_json(error: Mapping[str, Any], body: str) -> BadRequest:
    """400 for a body that is not JSON: the parser's problem and where (line, column, character)."""
    problem = str((error.get("ctx") or {}).get("error") or error.get("msg") or "not JSON")
    if problem in (_TOO_LONG_NUMBER, _TOO_DEEP):
        return BadRequest(f"the body is not JSON this API can read: {problem}", [{"problem": problem}])
    loc = error.get("loc") or ()
    position = loc[-1] if loc and isinstance(loc[-1], int) else 0
    line = body.count("\n", 0, position) + 1
    column = position - (body.rfind("\n", 0, position) + 1) + 1
    return BadRequest(f"the body is not valid JSON: {problem} at line {line} column {column} (char {position})",
                      [{"problem": problem, "line": line, "column": column, "position": position}])


@app.not_found
def _no_route(_exc: NotFoundError) -> Response[Any]:
    method, path = app.current_event.http_method, app.current_event.path
    allowed = allowed_methods(path)
    if allowed and method not in allowed:  # (asked with one it takes: a path parameter no route accepts)
        exc = MethodNotAllowed(f"{method} is not allowed on {path}: it takes {', '.join(allowed)}", allowed)
        return _error(exc, {"Allow": ", ".join(allowed)})
    return _error(NotFound(f"no route {method} {path}"))


def allowed_methods(path: str) -> list[str]:
    """The methods the API takes on `path` (none: no route has that path)."""
    return sorted({m for pattern, methods in _route_table() if pattern.fullmatch(path) for m in methods})


@cache
def _route_table() -> list[tuple[re.Pattern[str], list[str]]]:
    """Every route's path (as a pattern) and its methods, read from the OpenAPI document, the one
    list of the routes (built once, after the routers are included)."""
    schema = app.get_openapi_schema(title=TITLE, version=VERSION)
    routes = {path: [m.upper() for m in ("get", "put", "post", "delete", "patch") if getattr(item, m, None)]
              for path, item in (schema.paths or {}).items()}
    routes.update(_UNDOCUMENTED_ROUTES)
    return [(re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))), methods) for path, methods in routes.items()]


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unexpected error")
    return Response(500, "application/json", error_body("internal error", request_id()))


def _error(exc: ApiError, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(exc.status, "application/json", error_body(exc.message, request_id(), exc.details),
                    headers=headers)
