"""What the workflows cost on AWS, from what their executions actually did.

    prices = Prices.load()                                   # workflows/cost/prices_us_east_1.json
    execution = analyze(events, definition, workflow="register")   # one GetExecutionHistory
    usage = execution.usage(profiles)                        # billable quantities of one execution
    standard = bill(usage.scaled(100_000), prices)           # a month of it, as a Standard workflow
    express = bill(usage.scaled(100_000), prices, mode="express")

Counted the way AWS bills:

- Step Functions Standard: one state transition per state entered (Task, Pass, Choice, Wait,
  Parallel, Map, Succeed, Fail, and every state inside a branch or an iteration), plus one per
  retry ("each retry will be charged as an additional state transition", Step Functions pricing).
- Step Functions Express: one request per execution, and its duration rounded up to 100 ms times
  its memory in 64 MB increments (50 MB + definition + execution data x Parallel/Map steps).
  Express cannot run `.waitForTaskToken` or `.sync` tasks, nor anything longer than 5 minutes.
- Lambda: one request per invocation the function ran (a FunctionError and a timeout are billed,
  a throttled Invoke is not); duration rounded up to the millisecond times the catalog memory
  (GB-seconds). The duration is the function's measured Billed Duration (its REPORT lines: the
  execution environments' figures, not the engine's), and a timed-out invocation bills its
  timeout. Without a measurement, a task's duration is read from the history: TaskScheduled (or
  LambdaFunctionScheduled) to its end, or to TaskSubmitted for a `.waitForTaskToken` task (the
  wait for the token is not the function's time).
- Lambda's INIT phase: billed like the invoke phase since 1 August 2025 for on-demand functions
  packaged as ZIP on a managed runtime (the fleet's), as it already was for container images,
  custom runtimes and provisioned concurrency ("AWS Lambda standardizes billing for INIT phase",
  AWS Compute Blog, April 2025). A cold start adds its measured Init Duration at the function's
  memory; cold starts are a share of invocations (`cold_start_rate`, by default the 1% AWS gives
  as typical of production workloads: a local sample, warmed up, says nothing of AWS's rate).
- DynamoDB on demand: write request units (1 KB each), read request units (4 KB each, half for an
  eventually consistent read, double in a transaction). A conditional write that fails is billed.
- SQS: one request per 64 KB chunk. EventBridge: one custom event per entry per 64 KB chunk;
  each event that a rule delivers to a Lambda consumer is that consumer's invocation.

What a history does not show (the DynamoDB, SQS and EventBridge calls a Lambda makes itself, and
the event consumers' invocations) comes from `FunctionProfile`s measured on the local cloud
(workflows/cost/sample.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from workflows.definitions import asl, catalog
from workflows.trace.model import event_details, json_or_text

PRICES_FILE = Path(__file__).with_name("prices_us_east_1.json")
ARCHITECTURES = ("arm64", "x86_64")
DEFAULT_ARCHITECTURE = "arm64"  # what infra/lambda_asset.py deploys
#: The memory of a Lambda written to replace a direct service integration: the catalog's default.
INTEGRATION_LAMBDA_MEMORY_MB: int = catalog.Function.__dataclass_fields__["memory_mb"].default
#: The share of invocations that are cold starts (their Init Duration billed): AWS's analysis of
#: production workloads puts INITs under 1% of invocations.
DEFAULT_COLD_START_RATE = 0.01

Mode = Literal["standard", "express", "mixed"]  # mixed: transitions as Standard, executions as Express


# --- prices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    """The dated price list (one region). `data` is the JSON file's content."""

    data: Mapping[str, Any]
    path: str = ""

    @classmethod
    def load(cls, path: str | Path | None = None) -> Prices:
        p = Path(path) if path else PRICES_FILE
        return cls(json.loads(p.read_text()), str(p))

    @property
    def as_of(self) -> str:
        return str(self.data["as_of"])

    @property
    def region(self) -> str:
        return str(self.data["region"])

    def with_lambda_rate(self, architecture: str, price_per_gb_second: float) -> Prices:
        """The same prices with a flat Lambda duration rate (for the published examples)."""
        data = json.loads(json.dumps(self.data))
        data["lambda"]["duration_tiers_per_gb_second"][architecture] = [
            {"up_to_gb_seconds": None, "price": price_per_gb_second}]
        return Prices(data, self.path)

    @property
    def sfn(self) -> Mapping[str, Any]:
        return self.data["step_functions"]

    @property
    def lam(self) -> Mapping[str, Any]:
        return self.data["lambda"]


def tiered(quantity: float, tiers: list[Mapping[str, Any]], limit_key: str) -> float:
    """Price `quantity` through volume tiers ({limit_key: cumulative upper bound or None, price})."""
    cost, below = 0.0, 0.0
    for tier in tiers:
        upper = tier[limit_key]
        in_tier = max(0.0, (quantity if upper is None else min(quantity, upper)) - below)
        cost += in_tier * tier["price"]
        if upper is None or quantity <= upper:
            break
        below = upper
    return cost


# --- billing units ---------------------------------------------------------------------------


def lambda_billed_ms(duration_ms: float) -> int:
    """Lambda bills duration rounded up to the millisecond (1 ms at least)."""
    return max(1, math.ceil(round(duration_ms, 6)))


def gb_seconds(billed_ms: float, memory_mb: float) -> float:
    return billed_ms / 1000.0 * memory_mb / 1024.0


def express_billed(duration_ms: float, memory_mb: float, prices: Prices) -> tuple[int, int]:
    """(billed ms, billed MB) of one Express execution: 100 ms and 64 MB increments."""
    express = prices.sfn["express"]
    step_ms, step_mb = express["duration_increment_ms"], express["memory_increment_mb"]
    billed_ms = max(step_ms, math.ceil(round(duration_ms, 6) / step_ms) * step_ms)
    billed_mb = max(step_mb, math.ceil(memory_mb / step_mb) * step_mb)
    return billed_ms, billed_mb


@dataclass
class Units:
    """Billable requests to the services around the workflow."""

    ddb_read_units: float = 0.0
    ddb_write_units: float = 0.0
    sqs_requests: float = 0.0
    events: float = 0.0  # EventBridge custom events published

    def __add__(self, other: Units) -> Units:
        return Units(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, k: float) -> Units:
        return Units(*(getattr(self, f.name) * k for f in fields(self)))


def item_size(item: Mapping[str, Any] | None) -> int:
    """DynamoDB's size of an item in wire format: attribute names plus values, in bytes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def _value_size(value: Mapping[str, Any]) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(str(v).encode())
    if kind == "N":
        digits = str(v).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v) if isinstance(v, (bytes, bytearray)) else len(str(v)) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(x) for k, x in v.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in v)
    return len(json.dumps(v))


def _write_units(size_bytes: int) -> float:
    return float(max(1, math.ceil(size_bytes / 1024)))


def _read_units(size_bytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(size_bytes / 4096))
    return float(units) if consistent else units / 2


def _norm(operation: str) -> str:
    return operation.replace("_", "").replace("-", "").lower()


def units_of_call(service: str, operation: str, params: Mapping[str, Any] | None,
                  response: Mapping[str, Any] | None) -> Units:
    """The billable units of one service call (a direct integration or an SDK call), from its
    request and, where there is one, its response. Unknown calls bill nothing here."""
    service, op = service.lower(), _norm(operation)
    params, response = params or {}, response or {}
    if service == "dynamodb":
        consistent = bool(params.get("ConsistentRead"))
        if op == "putitem":
            return Units(ddb_write_units=_write_units(item_size(params.get("Item"))))
        if op in ("updateitem", "deleteitem"):
            # The stored item's size is not in the call unless it is returned; the fleet's items
            # are under 1 KB, so what the request writes is the lower bound that is used.
            returned = response.get("Attributes") if params.get("ReturnValues") in ("ALL_NEW", "ALL_OLD") else None
            size = item_size(returned) if returned else item_size(params.get("Key"))
            return Units(ddb_write_units=_write_units(size))
        if op == "getitem":
            return Units(ddb_read_units=_read_units(item_size(response.get("Item")), consistent))
        if op in ("query", "scan"):
            size = sum(item_size(i) for i in response.get("Items", []))
            return Units(ddb_read_units=_read_units(size, consistent))
        if op == "batchgetitem":
            items = [i for table in response.get("Responses", {}).values() for i in table]
            return Units(ddb_read_units=sum(_read_units(item_size(i), consistent) for i in items) or 0.5)
        if op == "batchwriteitem":
            writes = [w for table in params.get("RequestItems", {}).values() for w in table]
            return Units(ddb_write_units=sum(
                _write_units(item_size(w.get("PutRequest", {}).get("Item") or w.get("DeleteRequest", {}).get("Key")))
                for w in writes))
        if op == "transactwriteitems":
            total = 0.0
            for entry in params.get("TransactItems", []):
                (_kind, body), = entry.items()
                total += 2 * _write_units(item_size(body.get("Item") or body.get("Key")))
            return Units(ddb_write_units=total)
        if op == "transactgetitems":
            got = response.get("Responses", [])
            return Units(ddb_read_units=sum(2 * _read_units(item_size(r.get("Item")), True) for r in got) or 2.0)
        return Units()
    if service == "sqs":
        if op in ("sendmessage", "sendmessagebatch"):
            if op == "sendmessage":
                size = len(_text(params.get("MessageBody")).encode())
            else:
                size = sum(len(_text(e.get("MessageBody")).encode()) for e in params.get("Entries", []))
            return Units(sqs_requests=float(max(1, math.ceil(size / (64 * 1024)))))
        if op in ("receivemessage", "deletemessage", "deletemessagebatch", "changemessagevisibility",
                  "changemessagevisibilitybatch", "getqueueurl", "getqueueattributes", "purgequeue"):
            return Units(sqs_requests=1.0)
        return Units()
    if service in ("events", "eventbridge"):
        if op == "putevents":
            return Units(events=float(sum(
                max(1, math.ceil(len(json.dumps(e, default=str).encode()) / (64 * 1024)))
                for e in params.get("Entries", []))))
        return Units()
    return Units()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)


# --- one execution, from its history ---------------------------------------------------------


@dataclass
class LambdaRun:
    """One Lambda attempt of a Task state."""

    state: str
    function: str  # catalog logical id
    memory_mb: int
    duration_ms: float
    billed: bool  # False when Lambda never ran it (throttled, service error)
    error: str | None = None

    @property
    def billed_ms(self) -> int:
        return lambda_billed_ms(self.duration_ms) if self.billed else 0

    @property
    def gb_seconds(self) -> float:
        return gb_seconds(self.billed_ms, self.memory_mb)


@dataclass
class IntegrationCall:
    """One attempt of a direct service integration (DynamoDB, SQS, EventBridge, Step Functions)."""

    state: str
    service: str
    action: str
    duration_ms: float
    units: Units
    error: str | None = None


@dataclass
class FunctionProfile:
    """What one function does per invocation, measured: its billed duration and the service units
    of the calls it makes itself (on the local cloud), and its Init Duration on a cold start (the
    REPORT lines' figures, of whichever target ran it)."""

    function: str
    invocations: int = 0
    billed_ms_total: float = 0.0
    units_total: Units = field(default_factory=Units)
    init_ms_total: float = 0.0
    cold_starts: int = 0

    @property
    def billed_ms(self) -> float:
        return self.billed_ms_total / self.invocations if self.invocations else 0.0

    @property
    def init_ms(self) -> float:
        """The mean Init Duration of a cold start (0 when none was seen)."""
        return self.init_ms_total / self.cold_starts if self.cold_starts else 0.0

    def init_billed_ms(self, cold_start_rate: float) -> float:
        """The INIT phase's billed milliseconds, spread over every invocation."""
        return cold_start_rate * lambda_billed_ms(self.init_ms) if self.cold_starts else 0.0

    @property
    def units(self) -> Units:
        return self.units_total.scaled(1 / self.invocations) if self.invocations else Units()


# Lambda errors raised by the Invoke call itself: the function did not run, nothing is billed.
_NOT_INVOKED = ("Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
                "Lambda.SdkClientException", "Lambda.ResourceNotFoundException", "Lambda.ResourceNotReadyException",
                "Lambda.EC2ThrottledException", "Lambda.InvalidRequestContentException",
                "Lambda.RequestTooLargeException", "Lambda.ClientExecutionTimeoutException")
_TASK_START = {"TaskScheduled", "LambdaFunctionScheduled"}
_TASK_EVENTS = {"TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStartFailed",
                "TaskSubmitFailed", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "LambdaFunctionFailed",
                "LambdaFunctionTimedOut", "LambdaFunctionStartFailed"}
_TASK_ENDS = {"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed",
              "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
              "LambdaFunctionStartFailed"}


@dataclass
class ExecutionUsage:
    """What one execution did, in billable terms."""

    workflow: str
    execution_arn: str
    status: str
    duration_ms: float
    transitions: int
    states: int
    retries: int
    lambdas: list[LambdaRun] = field(default_factory=list)
    integrations: list[IntegrationCall] = field(default_factory=list)
    express_memory_mb: float = 50.0
    express_blocker: str | None = None  # why this could not run as an Express workflow

    def usage(self, profiles: Mapping[str, FunctionProfile] | None = None, prices: Prices | None = None,
              cold_start_rate: float = DEFAULT_COLD_START_RATE) -> Usage:
        """The billable quantities of this execution. `profiles` price each Lambda from its
        measured billed duration and Init Duration, and add what it does inside (its own service
        calls) and the event consumers' invocations."""
        prices = prices or Prices.load()
        profiles = profiles or {}
        u = Usage(executions=1, transitions=self.transitions)
        ms, mb = express_billed(self.duration_ms, self.express_memory_mb, prices)
        u.express_gb_seconds = gb_seconds(ms, mb)
        units = Units()
        for run in self.lambdas:
            if not run.billed:
                continue
            u.lambda_requests += 1
            profile = profiles.get(run.function)
            measured = profile is not None and profile.invocations > 0
            timed_out = (run.error or "") in ("Sandbox.Timedout", "States.Timeout")
            invoke_ms = profile.billed_ms if measured and not timed_out and profile else run.billed_ms
            init_ms = profile.init_billed_ms(cold_start_rate) if profile else 0.0
            u.lambda_gb_seconds += gb_seconds(invoke_ms + init_ms, run.memory_mb)
            u.lambda_init_gb_seconds += gb_seconds(init_ms, run.memory_mb)
            u.lambda_measured_invocations += 1 if measured and not timed_out else 0
            if profile:
                units += profile.units
        for call in self.integrations:
            units += call.units
            u.integration_calls += 1
            u.integration_gb_seconds += gb_seconds(lambda_billed_ms(call.duration_ms), INTEGRATION_LAMBDA_MEMORY_MB)
        # Every event published reaches the bus's consumers (one asynchronous invocation each;
        # all of the fleet's events match its rule).
        published = units.events
        for bus in catalog.BUSES:
            for consumer in bus.consumers:
                profile = profiles.get(consumer)
                memory = catalog.function(consumer).memory_mb
                u.lambda_requests += published
                init_ms = profile.init_billed_ms(cold_start_rate) if profile else 0.0
                u.lambda_gb_seconds += published * gb_seconds((profile.billed_ms if profile else 1) + init_ms, memory)
                u.lambda_init_gb_seconds += published * gb_seconds(init_ms, memory)
                u.lambda_measured_invocations += published if profile and profile.invocations else 0
                u.consumer_invocations += published
                if profile:
                    units += profile.units.scaled(published)
        u.units = units
        return u


def analyze(events: list[dict], definition: str | Mapping[str, Any] | None = None, workflow: str = "",
            execution_arn: str = "", status: str = "") -> ExecutionUsage:
    """One execution's billable activity, from its GetExecutionHistory events (any target)."""
    from workflows.trace.model import visits_from_history

    visits = visits_from_history(events, definition)
    retries = sum(v.retries for v in visits)
    started = next((e["timestamp"] for e in events if e["type"] == "ExecutionStarted"), None)
    ended = next((e["timestamp"] for e in reversed(events)
                  if e["type"] in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")),
                 None)
    if not status:
        last = events[-1]["type"] if events else ""
        status = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
                  "ExecutionAborted": "ABORTED"}.get(last, "RUNNING")
    result = ExecutionUsage(
        workflow=workflow, execution_arn=execution_arn, status=status,
        duration_ms=_ms(started, ended) if started and ended else 0.0,
        transitions=len(visits) + retries, states=len(visits), retries=retries,
    )
    result.lambdas, result.integrations = _tasks(events)
    result.express_memory_mb, result.express_blocker = _express_memory(events, definition, visits, result.duration_ms)
    return result


def _tasks(events: list[dict]) -> tuple[list[LambdaRun], list[IntegrationCall]]:
    """Every task attempt in the history, followed along the previousEventId chain (so
    interleaved Parallel branches and Map iterations are told apart)."""
    open_tasks: dict[int, dict] = {}
    current_state: dict[int, str] = {}  # StateEntered id -> name, found along the chain
    state_of: dict[int, str] = {}
    last_open: dict | None = None
    done: list[dict] = []
    for ev in events:
        eid, etype, prev = ev["id"], ev["type"], ev.get("previousEventId")
        if etype.endswith("StateEntered"):
            current_state[eid] = ev.get("stateEnteredEventDetails", {}).get("name", "?")
            state_of[eid] = current_state[eid]
            continue
        if prev in state_of:
            state_of[eid] = state_of[prev]
        if etype in _TASK_START:
            d = event_details(ev)
            task = {"state": state_of.get(eid, "?"), "resourceType": d.get("resourceType", "lambda"),
                    "resource": d.get("resource", ""), "parameters": json_or_text(d.get("parameters") or d.get("input")),
                    "begin": ev["timestamp"], "submitted": None, "end": None, "error": None, "output": None}
            if etype == "LambdaFunctionScheduled":  # the legacy Resource: a function ARN
                task["resource"] = "invoke"
                task["parameters"] = {"FunctionName": d.get("resource", "")}
            open_tasks[eid] = last_open = task
            continue
        if etype in _TASK_EVENTS:
            task = open_tasks.get(prev) if prev is not None else None
            task = task or last_open
            if task is None:
                continue
            open_tasks[eid] = task
            d = event_details(ev)
            if etype == "TaskSubmitted":
                task["submitted"] = ev["timestamp"]
            if etype in _TASK_ENDS and task["end"] is None:
                task["end"] = ev["timestamp"]
                task["error"] = d.get("error") if not etype.endswith("Succeeded") else None
                if etype.endswith("TimedOut") and not task["error"]:
                    task["error"] = "States.Timeout"
                task["output"] = json_or_text(d.get("output"))
                done.append(task)
    lambdas: list[LambdaRun] = []
    integrations: list[IntegrationCall] = []
    for t in done:
        kind, resource = str(t["resourceType"]).lower(), str(t["resource"])
        end = t["submitted"] if t["submitted"] is not None else t["end"]
        duration = _ms(t["begin"], end)
        params = t["parameters"] if isinstance(t["parameters"], dict) else {}
        if kind == "lambda" and resource.startswith("invoke"):
            name = str(params.get("FunctionName", ""))
            try:
                fn = catalog.function_by_name(name)
                function, memory = fn.logical_id, fn.memory_mb
            except KeyError:
                function, memory = name, INTEGRATION_LAMBDA_MEMORY_MB
            billed = not (t["error"] or "").startswith(_NOT_INVOKED)
            lambdas.append(LambdaRun(t["state"], function, memory, duration, billed, t["error"]))
            continue
        action = resource.split(".")[0]
        response = t["output"] if isinstance(t["output"], dict) else {}
        integrations.append(IntegrationCall(t["state"], kind, action, duration,
                                            units_of_call(kind, action, params, response), t["error"]))
    return lambdas, integrations


def _express_memory(events: list[dict], definition: Any, visits: list, duration_ms: float) -> tuple[float, str | None]:
    """Express memory (MB): 50 MB + definition size + execution data size x Parallel/Map steps;
    and what, if anything, keeps this workflow from running as Express."""
    text = definition if isinstance(definition, str) else json.dumps(definition or {})
    data = 0
    for ev in events:
        d = event_details(ev)
        for key in ("input", "output"):
            if isinstance(d.get(key), str):
                data = max(data, len(d[key].encode()))
    steps = len({(id(v.parent), v.branch, v.iteration) for v in visits if v.parent is not None})
    memory = 50.0 + (len(text.encode()) + data * max(1, steps)) / (1024 * 1024)
    return memory, express_blocker(definition, duration_ms)


def express_blocker(definition: Any, duration_ms: float = 0.0) -> str | None:
    """Why a workflow cannot be an Express workflow (None: it can)."""
    for task in asl.parse(definition).tasks() if definition else ():
        if task.integration.pattern != "request_response":
            suffix = ".waitForTaskToken" if task.integration.pattern == "wait_for_task_token" else ".sync"
            return f"{task.name} uses {suffix} (Express runs neither .waitForTaskToken nor .sync)"
    if duration_ms > 300_000:
        return "runs longer than Express's 5 minutes"
    return None


def _ms(a: datetime, b: datetime | None) -> float:
    return (b - a).total_seconds() * 1000 if a is not None and b is not None else 0.0


# --- quantities and bills --------------------------------------------------------------------


@dataclass
class Usage:
    """Billable quantities (of one execution, or of a month)."""

    executions: float = 0.0
    transitions: float = 0.0
    express_gb_seconds: float = 0.0
    lambda_requests: float = 0.0
    lambda_gb_seconds: float = 0.0
    lambda_init_gb_seconds: float = 0.0  # of which the INIT phase of cold starts
    lambda_measured_invocations: float = 0.0  # priced from measured billed durations (the rest: the history's)
    units: Units = field(default_factory=Units)
    consumer_invocations: float = 0.0  # of the event bus's Lambda consumers (included in lambda_requests)
    # The direct service integrations: were each a Lambda, these are its requests and GB-seconds.
    integration_calls: float = 0.0
    integration_gb_seconds: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        out = Usage()
        for f in fields(self):
            setattr(out, f.name, getattr(self, f.name) + getattr(other, f.name))
        return out

    def scaled(self, k: float) -> Usage:
        out = Usage()
        for f in fields(self):
            v = getattr(self, f.name)
            setattr(out, f.name, v.scaled(k) if isinstance(v, Units) else v * k)
        return out

    @staticmethod
    def mean(usages: list[Usage]) -> Usage:
        total = Usage()
        for u in usages:
            total = total + u
        return total.scaled(1 / len(usages)) if usages else total


@dataclass
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    cost: float


@dataclass
class Bill:
    lines: list[Line]

    @property
    def total(self) -> float:
        return sum(line.cost for line in self.lines)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.service] = out.get(line.service, 0.0) + line.cost
        return out


def lambda_cost(requests: float, gb_s: float, prices: Prices, architecture: str = DEFAULT_ARCHITECTURE,
                free_tier: bool = True) -> tuple[float, float]:
    """(request charges, compute charges) of a month of Lambda."""
    lam = prices.lam
    if architecture not in lam["duration_tiers_per_gb_second"]:
        raise ValueError(f"unknown architecture {architecture!r} (known: {', '.join(ARCHITECTURES)})")
    billable_requests = max(0.0, requests - (lam["free_tier_requests"] if free_tier else 0))
    billable_gb_s = max(0.0, gb_s - (lam["free_tier_gb_seconds"] if free_tier else 0))
    compute = tiered(billable_gb_s, lam["duration_tiers_per_gb_second"][architecture], "up_to_gb_seconds")
    return billable_requests * lam["per_request"], compute


def bill(usage: Usage, prices: Prices, mode: Mode = "standard", architecture: str = DEFAULT_ARCHITECTURE,
         free_tier: bool = True, lambdas_for_integrations: bool = False) -> Bill:
    """The charges for `usage` (a month): as a Standard or an Express workflow; optionally with a
    Lambda in place of each direct service integration (the same service calls, made by a function).
    `mixed` bills `usage.transitions` as Standard and `usage.executions` as Express (for a total
    over workflows of which only some can be Express: zero the other fields of each part)."""
    lines: list[Line] = []
    sfn = prices.sfn
    if mode in ("standard", "mixed"):
        free = sfn["standard"]["free_tier_state_transitions"] if free_tier else 0
        lines.append(Line("Step Functions", "state transitions", usage.transitions, "transitions",
                          max(0.0, usage.transitions - free) * sfn["standard"]["per_state_transition"]))
    if mode in ("express", "mixed"):
        express = sfn["express"]
        lines.append(Line("Step Functions", "Express requests", usage.executions, "requests",
                          usage.executions * express["per_request"]))
        gb_hours = usage.express_gb_seconds / 3600
        lines.append(Line("Step Functions", "Express duration", usage.express_gb_seconds, "GB-s",
                          tiered(gb_hours, express["duration_tiers_per_gb_hour"], "up_to_gb_hours")))
    requests, gb_s = usage.lambda_requests, usage.lambda_gb_seconds
    if lambdas_for_integrations:
        requests += usage.integration_calls
        gb_s += usage.integration_gb_seconds
    request_cost, compute_cost = lambda_cost(requests, gb_s, prices, architecture, free_tier)
    lines.append(Line("Lambda", "requests", requests, "requests", request_cost))
    lines.append(Line("Lambda", f"duration ({architecture})", gb_s, "GB-s", compute_cost))
    ddb = prices.data["dynamodb"]["on_demand"]
    lines.append(Line("DynamoDB", "write request units", usage.units.ddb_write_units, "WRU",
                      usage.units.ddb_write_units * ddb["per_write_request_unit"]))
    lines.append(Line("DynamoDB", "read request units", usage.units.ddb_read_units, "RRU",
                      usage.units.ddb_read_units * ddb["per_read_request_unit"]))
    sqs = prices.data["sqs"]
    free_sqs = sqs["free_tier_requests"] if free_tier else 0
    lines.append(Line("SQS", "requests", usage.units.sqs_requests, "requests",
                      max(0.0, usage.units.sqs_requests - free_sqs) * sqs["standard_per_request"]))
    lines.append(Line("EventBridge", "custom events", usage.units.events, "events",
                      usage.units.events * prices.data["eventbridge"]["per_custom_event"]))
    return Bill(lines)
