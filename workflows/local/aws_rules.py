"""What AWS's front door checks before a service runs a request, applied to the local cloud's.

moto runs what it is given: an operation no AWS API has (`X-Amz-Target: AWSStepFunctions.CallAction`
reached a method of moto's own), an input of 5 MB, a definition of 2 MB, an execution named `a b`
or with no name at all. AWS refuses each with a named error; so does the local cloud, from the
same source AWS's SDKs are generated from (botocore's service models: each operation's members
with their length, range and enum constraints), plus the rules the models do not carry:

- the operation must be one of the service's: else UnknownOperationException (JSON protocols) or
  InvalidAction (query protocol), 400;
- every top-level member within its model constraints: else ValidationException, 400, worded as
  AWS words it ("1 validation error detected: Value at 'input' failed to satisfy constraint:
  Member must have length less than or equal to 262144"), a sensitive value never echoed;
  Step Functions' payload limits are in UTF-8 bytes (256 KiB input/output, 1 MiB definition);
- Step Functions names (executions, state machines, activities): no whitespace, brackets,
  wildcards, special or control characters: else InvalidName, 400;
- StartExecution / StartSyncExecution without a name get a UUID, as on AWS;
- an SQS message (body and attributes, in UTF-8 bytes) over SQS's 1 MiB: InvalidParameterValue, 400
  (a queue's own MaximumMessageSize, when lower, is the queue's to check).

`check()` is pure: the engine seam that runs it on every request lives in the adapter.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel, Shape

# Step Functions quotas measured in UTF-8 bytes (the model's max counts characters).
_BYTE_LIMITED = {("stepfunctions", "input"), ("stepfunctions", "output"), ("stepfunctions", "definition")}
_NAMED = {"StartExecution", "StartSyncExecution", "CreateStateMachine", "CreateActivity"}
_UNNAMED_GETS_UUID = {"StartExecution", "StartSyncExecution"}
# AWS's Step Functions naming rule: no whitespace, < > { } [ ], ? *, " # % \ ^ | ~ ` $ & , ; : /,
# nor control characters (U+0000-001F, U+007F-009F).
_INVALID_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


@functools.cache
def _service_model(service: str) -> ServiceModel | None:
    try:
        return botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return None


@functools.cache
def _constraints(service: str, operation: str) -> tuple[tuple[str, Shape], ...]:
    model = _service_model(service)
    assert model is not None
    op: OperationModel = model.operation_model(operation)
    shape = op.input_shape
    if shape is None:
        return ()
    return tuple((name, member) for name, member in shape.members.items()
                 if {"min", "max", "enum"} & set(member.metadata))


def known_operation(service: str, operation: str) -> bool | None:
    """True/False for a service botocore knows; None for one it does not (no opinion)."""
    model = _service_model(service)
    if model is None:
        return None
    return operation in model.operation_names


def check(service: str, operation: str, params: dict[str, Any], protocol: str = "json") -> Refusal | dict[str, Any]:
    """The request's refusal, or its parameters as the service should run them (a UUID added
    where AWS names the execution)."""
    known = known_operation(service, operation)
    if known is False:
        if protocol == "query":
            return Refusal(400, "InvalidAction", f"The action {operation} is not valid for this web service.")
        return Refusal(400, "UnknownOperationException", f"{operation} is not an operation of {service}")
    if known is None:
        return params
    problems = [p for name, shape in _constraints(service, operation) if name in params
                for p in [_violation(service, name, shape, params[name])] if p]
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
        return Refusal(400, "ValidationException", count + "; ".join(problems))
    if service == "sqs" and operation == "SendMessage":
        size = _sqs_message_bytes(params)
        if size > SQS_MAX_MESSAGE_BYTES:
            return Refusal(400, "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be "
                                                         f"shorter than {SQS_MAX_MESSAGE_BYTES} bytes.")
    if service == "stepfunctions" and operation in _NAMED:
        name = params.get("name")
        if name is None and operation in _UNNAMED_GETS_UUID:
            return {**params, "name": str(uuid.uuid4())}
        if isinstance(name, str) and _INVALID_NAME.search(name):
            return Refusal(400, "InvalidName", f"Invalid Name: '{name}'")
    return params


SQS_MAX_MESSAGE_BYTES = 1024 * 1024  # SQS's largest message (body and attributes)


def _sqs_message_bytes(params: dict[str, Any]) -> int:
    body = params.get("MessageBody")
    size = len(body.encode("utf-8")) if isinstance(body, str) else 0
    attributes = params.get("MessageAttributes")
    if isinstance(attributes, dict):
        for name, value in attributes.items():
            size += len(str(name).encode("utf-8"))
            if isinstance(value, dict):
                for part in ("DataType", "StringValue", "BinaryValue"):
                    if isinstance(value.get(part), str):
                        size += len(value[part].encode("utf-8"))
    return size


def _violation(service: str, name: str, shape: Shape, value: Any) -> str | None:
    limits = shape.metadata
    shown = f"Value at '{name}'" if limits.get("sensitive") or (isinstance(value, str) and len(value) > 100) \
        else f"Value '{value}' at '{name}'"
    if shape.type_name == "string" and isinstance(value, str):
        length = len(value.encode("utf-8")) if (service, name) in _BYTE_LIMITED else len(value)
        if "max" in limits and length > limits["max"]:
            return f"{shown} failed to satisfy constraint: Member must have length less than or equal to {limits['max']}"
        if "min" in limits and length < limits["min"]:
            return f"{shown} failed to satisfy constraint: Member must have length greater than or equal to {limits['min']}"
        if "enum" in limits and value not in limits["enum"]:
            return f"{shown} failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(limits['enum'])}]"
    elif shape.type_name in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "max" in limits and value > limits["max"]:
            return f"{shown} failed to satisfy constraint: Member must have value less than or equal to {limits['max']}"
        if "min" in limits and value < limits["min"]:
            return f"{shown} failed to satisfy constraint: Member must have value greater than or equal to {limits['min']}"
    elif shape.type_name in ("list", "map") and isinstance(value, (list, dict)):
        if "max" in limits and len(value) > limits["max"]:
            return f"{shown} failed to satisfy constraint: Member must have length less than or equal to {limits['max']}"
        if "min" in limits and len(value) < limits["min"]:
            return f"{shown} failed to satisfy constraint: Member must have length greater than or equal to {limits['min']}"
    return None
