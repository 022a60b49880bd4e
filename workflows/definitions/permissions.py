"""What an ASL definition touches: every Task state's integration and the resources it names.

Plain Python (no CDK, no moto), read from the typed ASL model (definitions/asl.py). `infra/`
builds each state machine's least-privilege role from `permissions()`; tests use `analyze()` to
check the roles and the catalog against the ASL files.

    uses = analyze(sm.definition())          # one TaskUse per Task state, Parallel and Map included
    perms = permissions(uses)                # what the role must allow, in ${Placeholder} terms

The analysis is static: a resource given by a JSONPath (`"FunctionName.$": "$.fn"`) or a JSONata
expression cannot be known before run time, so it is reported in `TaskUse.dynamic` and
`permissions()` refuses it rather than granting a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from workflows.definitions.asl import Integration, Map, Pattern, Task, parse

# Parameters whose value names an AWS resource, and the TaskUse field each one fills.
RESOURCE_FIELDS: dict[str, str] = {
    "FunctionName": "function_names",
    "TableName": "table_names",
    "IndexName": "index_names",
    "QueueUrl": "queue_urls",
    "EventBusName": "event_bus_names",
    "StateMachineArn": "state_machine_arns",
}

# Parameters that carry data for the callee, never a resource of the call itself: a Lambda
# payload may well contain a "TableName" key, which the state machine does not touch.
DATA_FIELDS = frozenset({
    "Payload", "Input", "MessageBody", "MessageAttributes", "Detail", "Item", "Key",
    "ExpressionAttributeValues", "ExpressionAttributeNames", "ExclusiveStartKey", "ClientContext",
    "Output", "Body", "Tags",
})

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_LAMBDA_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:.+$")
_ACTIVITY_ARN = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:activity:.+$")

# The rule Step Functions manages to learn that a `.sync` child execution has ended.
SYNC_EVENTS_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
# aws-sdk integration service names whose IAM prefix differs.
_IAM_PREFIX = {"sfn": "states", "eventbridge": "events"}


@dataclass(frozen=True)
class TaskUse:
    """One Task state (or a Map's ItemReader / ResultWriter) and what it touches."""

    path: tuple[str, ...]  # state names from the top level, e.g. ("Prepare", "Branches[1]", "BookTechnician")
    resource: str  # the Resource field as written
    integration: str  # "lambda:invoke", "dynamodb:putItem", "aws-sdk:dynamodb:query", "activity", ...
    pattern: Pattern = "request_response"
    sync_version: str | None = None  # "2" for `.sync:2`
    kind: Literal["Task", "ItemReader", "ResultWriter"] = "Task"
    function_names: tuple[str, ...] = ()
    table_names: tuple[str, ...] = ()
    index_names: tuple[str, ...] = ()
    queue_urls: tuple[str, ...] = ()
    event_bus_names: tuple[str, ...] = ()
    state_machine_arns: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = ()  # parameter paths only known at run time
    credentials: bool = False  # the Task assumes another role (cross-account)
    default_bus: bool = False  # a PutEvents entry without EventBusName (goes to the default bus)

    @property
    def state(self) -> str:
        return self.path[-1]

    @property
    def where(self) -> str:
        return "/".join(self.path)

    @property
    def service(self) -> str:
        """The integration's service: lambda, dynamodb, sqs, events, states, or the aws-sdk service."""
        parts = self.integration.split(":")
        return parts[1] if parts[0] == "aws-sdk" and len(parts) > 2 else parts[0]

    @property
    def action(self) -> str:
        return self.integration.split(":")[-1]


@dataclass(frozen=True, order=True)
class Target:
    """A resource a permission applies to, as the ASL names it (usually a ${Placeholder})."""

    kind: Literal["function", "table", "table_index", "queue", "bus", "state_machine", "executions", "events_rule"]
    expression: str  # "${ValidateCarFunctionArn}", "${CarsTableName}", a rule name, ...
    qualifier: str = ""  # a function version/alias, or an index name


@dataclass(frozen=True, order=True)
class Permission:
    action: str  # IAM action, e.g. "lambda:InvokeFunction"
    target: Target


class UnsupportedTask(ValueError):
    """A Task whose permissions cannot be derived statically: extend `permissions()` or the ASL."""


# --- what each Task touches -------------------------------------------------------------------


def analyze(definition: str | Mapping[str, Any]) -> list[TaskUse]:
    """One TaskUse per Task state (and per Map ItemReader / ResultWriter), in definition order."""
    uses: list[TaskUse] = []
    for state in parse(definition).walk():
        if isinstance(state, Task):
            uses.append(_use(state.path, state.resource, state.arguments or {}, "Task", state.credentials))
        elif isinstance(state, Map):
            for block in (state.item_reader, state.result_writer):
                if block is not None:
                    uses.append(_use(state.path + (block.kind,), block.resource, block.arguments or {}, block.kind, False))
    return uses


def _use(path: tuple[str, ...], resource: str, args: Any, kind: str, credentials: bool) -> TaskUse:
    found: dict[str, list[str]] = {f: [] for f in RESOURCE_FIELDS.values()}
    dynamic: list[str] = []
    _collect(args, "", found, dynamic)

    called = Integration.of(resource)
    pattern, sync_version = called.pattern, called.sync_version
    if called.name is not None:
        integration = called.name
    elif _is_function_resource(resource):
        # The legacy form: the function ARN itself as the Resource.
        integration, pattern, sync_version = "lambda:invoke", "request_response", None
        found["function_names"].append(resource)
    elif _ACTIVITY_ARN.match(resource):
        integration, pattern, sync_version = "activity", "request_response", None
    else:
        integration, pattern, sync_version = f"unknown:{resource}", "request_response", None

    entries = args.get("Entries") if isinstance(args, dict) and integration == "events:putEvents" else None
    default_bus = isinstance(entries, list) and any(
        isinstance(e, dict) and "EventBusName" not in e and "EventBusName.$" not in e for e in entries)

    return TaskUse(
        path=path, resource=resource, integration=integration, pattern=pattern, sync_version=sync_version,
        kind=kind,  # type: ignore[arg-type]
        dynamic=tuple(dynamic), credentials=credentials, default_bus=default_bus,
        **{k: tuple(dict.fromkeys(v)) for k, v in found.items()},
    )


def _is_function_resource(resource: str) -> bool:
    if _LAMBDA_ARN.match(resource):
        return True
    m = PLACEHOLDER.fullmatch(resource.split(":")[0]) if resource.startswith("${") else None
    if m is None:
        return False
    from workflows.definitions import catalog  # plain data; imported late so this module stands alone

    ref = catalog.SUBSTITUTIONS.get(m.group(1))
    return ref is not None and ref.kind == "function"


def _collect(node: Any, where: str, found: dict[str, list[str]], dynamic: list[str]) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _collect(item, f"{where}[{i}]", found, dynamic)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        name = key[:-2] if key.endswith(".$") else key
        here = f"{where}.{name}" if where else name
        if name in RESOURCE_FIELDS:
            if key.endswith(".$") or not isinstance(value, str) or _is_jsonata(value):
                dynamic.append(here)
            else:
                found[RESOURCE_FIELDS[name]].append(value)
        elif name not in DATA_FIELDS:
            _collect(value, here, found, dynamic)


def _is_jsonata(value: str) -> bool:
    return value.strip().startswith("{%")


# --- what a role must allow -------------------------------------------------------------------

_DYNAMODB_OPTIMIZED = {"getItem": "GetItem", "putItem": "PutItem", "updateItem": "UpdateItem", "deleteItem": "DeleteItem"}
_DYNAMODB_TRANSACTIONS = {
    "transactWriteItems": ("ConditionCheckItem", "DeleteItem", "PutItem", "UpdateItem"),
    "transactGetItems": ("GetItem",),
}
_SDK_TARGETS = {
    "dynamodb": ("table_names", "table"),
    "sqs": ("queue_urls", "queue"),
    "eventbridge": ("event_bus_names", "bus"),
    "lambda": ("function_names", "function"),
    "sfn": ("state_machine_arns", "state_machine"),
}


def permissions(uses: list[TaskUse]) -> list[Permission]:
    """The IAM permissions the state machine's role needs for these Task states, deduplicated
    and sorted. Raises UnsupportedTask for anything that cannot be scoped statically."""
    perms: set[Permission] = set()
    for use in uses:
        perms.update(task_permissions(use))
    return sorted(perms)


def task_permissions(use: TaskUse) -> list[Permission]:
    if use.dynamic:
        raise UnsupportedTask(f"{use.where}: {', '.join(use.dynamic)} chosen at run time; name the resource with a ${{Placeholder}}")
    if use.credentials:
        raise UnsupportedTask(f"{use.where}: cross-account Credentials are not supported by the role builder")
    integration, pattern = use.integration, use.pattern

    if integration == "lambda:invoke":
        _require(use, use.function_names, "FunctionName")
        return [Permission("lambda:InvokeFunction", _function_target(name)) for name in use.function_names]

    if integration.startswith("dynamodb:") and use.action in _DYNAMODB_OPTIMIZED:
        _require(use, use.table_names, "TableName")
        return [Permission(f"dynamodb:{_DYNAMODB_OPTIMIZED[use.action]}", Target("table", t)) for t in use.table_names]

    if integration == "sqs:sendMessage":
        _require(use, use.queue_urls, "QueueUrl")
        return [Permission("sqs:SendMessage", Target("queue", q)) for q in use.queue_urls]

    if integration == "events:putEvents":
        if use.default_bus:
            raise UnsupportedTask(f"{use.where}: an entry without EventBusName goes to the default bus; name the fleet bus")
        _require(use, use.event_bus_names, "EventBusName")
        return [Permission("events:PutEvents", Target("bus", b)) for b in use.event_bus_names]

    if integration == "states:startExecution":
        _require(use, use.state_machine_arns, "StateMachineArn")
        perms = [Permission("states:StartExecution", Target("state_machine", sm)) for sm in use.state_machine_arns]
        if pattern == "sync":
            # Step Functions polls the child and stops it if the parent stops; it learns of the
            # child's end through a managed EventBridge rule.
            for sm in use.state_machine_arns:
                perms += [Permission(a, Target("executions", sm)) for a in ("states:DescribeExecution", "states:StopExecution")]
            perms += [Permission(a, Target("events_rule", SYNC_EVENTS_RULE))
                      for a in ("events:DescribeRule", "events:PutRule", "events:PutTargets")]
        return perms

    if integration.startswith("aws-sdk:") and use.service in _SDK_TARGETS and pattern != "sync":
        field_name, kind = _SDK_TARGETS[use.service]
        names = getattr(use, field_name)
        _require(use, names, field_name)
        prefix = _IAM_PREFIX.get(use.service, use.service)
        if use.service == "dynamodb" and use.action in _DYNAMODB_TRANSACTIONS:
            actions = [f"dynamodb:{a}" for a in _DYNAMODB_TRANSACTIONS[use.action]]
        else:
            actions = [f"{prefix}:{use.action[0].upper()}{use.action[1:]}"]
        targets = [_function_target(n) if kind == "function" else Target(kind, n) for n in names]  # type: ignore[arg-type]
        if use.service == "dynamodb":
            targets += [Target("table_index", t, ix) for t in names for ix in use.index_names]
        return [Permission(a, t) for a in actions for t in targets]

    raise UnsupportedTask(f"{use.where}: no IAM mapping for {use.resource!r}; "
                          "add one to workflows/definitions/permissions.py permissions()")


def _require(use: TaskUse, values: tuple[str, ...], what: str) -> None:
    if not values:
        raise UnsupportedTask(f"{use.where}: {use.integration} without a static {what}")


def _function_target(expression: str) -> Target:
    """`${XFunctionArn}` or `${XFunctionArn}:live` (a version or alias) -> Target."""
    key, qualifier = split_placeholder(expression)
    if key is None:
        return Target("function", expression)
    return Target("function", f"${{{key}}}", qualifier.lstrip(":"))


def split_placeholder(expression: str) -> tuple[str | None, str]:
    """`${Key}` -> ("Key", ""); `${Key}:live` -> ("Key", ":live"); a literal -> (None, literal)."""
    m = PLACEHOLDER.match(expression)
    if m is None or m.start() != 0:
        return None, expression
    return m.group(1), expression[m.end():]


def functions_named(definition: str | Mapping[str, Any]) -> set[str]:
    """Every function expression a definition invokes (Task integrations and legacy ARNs)."""
    return {name for use in analyze(definition) for name in use.function_names}
