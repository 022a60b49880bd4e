"""The API's resolver, shared by every router: one per process, request state per invocation,
JSON bodies only, and every error mapped once to `{"message", "details"?, "request_id"}`
(422 invalid input with the fields at fault, 404 unknown id, 409 illegal transition or
conflicting retry, 415 a body that is not JSON). No stack traces, no 5xx for bad input."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel

from fleet_api.errors import ApiError, Invalid, NotFound, error_body
from fleet_domain.platform.observability import logger

TITLE, VERSION = "Car fleet API", "1.0.0"


class _PerInvocationResolver(APIGatewayRestResolver):
    """The resolver keeps the request it is serving on itself (current_event, lambda_context,
    context): right for a Lambda sandbox, which serves one request at a time, wrong for the local
    runtime, which serves concurrent invocations from one process. Here that state is per thread,
    so concurrent requests never read each other's headers or request ids. (Routers read it from
    here once included.)"""

    _invocation = threading.local()

    current_event = property(lambda self: getattr(self._invocation, "current_event", None),
                             lambda self, value: setattr(self._invocation, "current_event", value))
    lambda_context = property(lambda self: getattr(self._invocation, "lambda_context", None),
                              lambda self, value: setattr(self._invocation, "lambda_context", value))

    @property
    def context(self) -> dict[str, Any]:
        if getattr(self._invocation, "context", None) is None:
            self._invocation.context = {}
        context: dict[str, Any] = self._invocation.context
        return context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._invocation.context = value

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        # Powertools stores the request on its base class (process-wide); keep ours per thread.
        self._invocation.current_event = self._to_proxy_event(cast(dict[str, Any], event))
        self._invocation.lambda_context = context
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
        return json.loads(body)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(f"unparseable JSON ({type(exc).__name__})", body[:100], 0) from None


app = _PerInvocationResolver(enable_validation=True, json_body_deserializer=_json_body)
app.enable_swagger(path="/docs", title=TITLE, version=VERSION,
                   description="Starts and resumes the car fleet's Step Functions workflows.")


# --- the request ---------------------------------------------------------------------------


def request_id() -> str:
    return app.current_event.request_context.request_id or ""


def idempotency_key() -> str | None:
    key: str | None = app.current_event.get_header_value("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 128):
        raise Invalid("Idempotency-Key must be 1 to 128 characters", [{"field": "Idempotency-Key"}])
    return key


def json_response(status: int, body: BaseModel | dict[str, Any]) -> Response[Any]:
    payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return Response(status, "application/json", payload)


# --- errors, mapped once -------------------------------------------------------------------


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # (Powertools leaves it untyped)
def _invalid(exc: RequestValidationError) -> Response[Any]:
    details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:] or e.get("loc", ())), "problem": e.get("msg", "")}
               for e in exc.errors()]
    return _error(Invalid("request is not valid", details))


@app.exception_handler(ApiError)  # type: ignore[untyped-decorator]
def _api_error(exc: ApiError) -> Response[Any]:
    return _error(exc)


@app.not_found
def _no_route(_exc: NotFoundError) -> Response[Any]:
    return _error(NotFound(f"no route {app.current_event.http_method} {app.current_event.path}"))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unexpected error")
    return Response(500, "application/json", error_body("internal error", request_id()))


def _error(exc: ApiError) -> Response[Any]:
    return Response(exc.status, "application/json", error_body(exc.message, request_id(), exc.details))
