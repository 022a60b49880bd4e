"""AWS's front-door rules (workflows/local/aws_rules.py) run on every request moto answers for the
services the fleet uses, whether it came over `fleet up`'s endpoint or from a client in this
process (a function's, the engine's integrations): an operation the service does not have, a
member outside its model's constraints (Step Functions' 256 KiB input and output and 1 MiB
definition in UTF-8 bytes), an invalid Step Functions name, an SQS message over its size limit,
each refused with AWS's error before moto runs it."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.responses import StepFunctionResponse

from workflows.local import aws_rules
from workflows.local.adapter.seam import Seam

_SERVICES: dict[type, str] = {StepFunctionResponse: "stepfunctions", SQSResponse: "sqs", DynamoHandler: "dynamodb",
                              EventsHandler: "events"}


def _checked(service: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    def wrap(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(call_action)
        def run(handler: Any) -> Any:
            refusal = _refusal(service, handler)
            if refusal is not None:
                return refusal
            return call_action(handler)

        return run

    return wrap


def json_protocol(handler: Any) -> bool:
    return bool(handler.headers.get("X-Amz-Target") or handler.headers.get("x-amz-target"))


def json_params(handler: Any) -> dict[str, Any] | None:
    """A JSON-protocol request's parameters as the API names them (its body, a JSON object); None
    for a query-protocol request or a body that is not a JSON object."""
    if not json_protocol(handler):
        return None
    body = handler.body
    if isinstance(body, dict):  # moto has parsed it already (after its call_action began)
        return body
    try:
        params = json.loads(body or "{}")
    except (TypeError, ValueError):
        return None
    return params if isinstance(params, dict) else None


def _refusal(service: str, handler: Any) -> tuple[int, dict[str, str], str] | None:
    operation = handler._get_action()
    if not operation:
        return None
    is_json = json_protocol(handler)
    if is_json:
        params = json_params(handler)
        if params is None:
            return None  # moto answers a body that is not a JSON object as it does (the endpoint refuses it first)
    else:
        params = {k: v for k, v in handler._get_params().items() if k != "Action"}
    result = aws_rules.check(service, operation, params, protocol="json" if is_json else "query")
    if not isinstance(result, aws_rules.Refusal):
        return None
    if is_json:
        body = json.dumps({"__type": result.code, "message": result.message})
        return result.status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": result.code}, body
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(result.code)}</Code>"
           f"<Message>{escape(result.message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>")
    return result.status, {"Content-Type": "text/xml"}, xml


SEAM = Seam(__name__, "AWS's front-door rules on every request to Step Functions, SQS, DynamoDB and EventBridge")
for _handler, _service in _SERVICES.items():
    SEAM.wrap(_handler, "call_action", _checked(_service))
