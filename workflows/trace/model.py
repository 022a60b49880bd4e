"""Execution history -> per-state view: which states ran, in order, with retries, errors and waits.

Reads only what every target serves (DescribeExecution, DescribeStateMachine, GetExecutionHistory),
so it works the same locally, on Step Functions Local and on AWS.

    trace = load_trace(sfn, execution_arn)       # the execution, its history, its state machine's ASL
    trace.visits                                 # one StateVisit per state entered, in history order
    graph = Graph.from_definition(trace.definition)
    trace.summaries()                            # node id -> what happened there (for the graph view)

A visit knows where it ran: `parent` is the Parallel or Map visit around it, `branch` the Parallel
branch (from the ASL), `iteration` the Map item index; `node_id` names its state in the ASL graph
(`"PrepareRepair/Branches[1]/BookTechnician"`, `"RunChecks/ItemProcessor/RunCheck"`). Events are
attributed by their `previousEventId` chain, so interleaved Parallel branches and Map iterations
are told apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.definitions import asl

_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_STARTED = {"TaskStarted", "LambdaFunctionStarted", "ActivityStarted"}
_SUCCEEDED = {"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"}
_FAILED = {"TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "LambdaFunctionTimedOut", "ActivityFailed",
           "ActivityTimedOut", "TaskSubmitFailed", "LambdaFunctionStartFailed", "TaskStartFailed",
           "LambdaFunctionScheduleFailed", "ActivityScheduleFailed"}
_GROUP_STARTED = {"ParallelStateStarted", "MapStateStarted"}
_GROUP_SUCCEEDED = {"ParallelStateSucceeded", "MapStateSucceeded"}
_GROUP_FAILED = {"ParallelStateFailed", "MapStateFailed"}
_GROUP_EVENT_PREFIXES = (("MapIteration", "Map"), ("MapState", "Map"), ("MapRun", "Map"), ("ParallelState", "Parallel"))
_EXECUTION_END = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}

# A visit's status; the graph view uses the same words as CSS classes.
STATUSES = ("succeeded", "failed", "caught", "running", "aborted")


@dataclass
class Attempt:
    """One try of a Task (or one run of a Parallel / Map): a Retry makes another."""

    number: int
    scheduled: datetime | None = None
    started: datetime | None = None
    submitted: datetime | None = None  # a .waitForTaskToken task was handed over; the wait begins
    ended: datetime | None = None
    error: str | None = None
    cause: str | None = None
    resource: str | None = None  # "lambda:invoke", "sqs:sendMessage.waitForTaskToken", ...

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def waits_for_token(self) -> bool:
        return bool(self.resource and self.resource.endswith(".waitForTaskToken"))

    @property
    def token_wait_ms(self) -> float | None:
        """How long the task token was out: from hand-over to SendTask* (or until now if still out)."""
        begin = self.submitted or self.started or self.scheduled
        if not self.waits_for_token or begin is None or self.ended is None:
            return None
        return _ms(begin, self.ended)


@dataclass(eq=False)
class StateVisit:
    name: str
    type: str
    entered: datetime | None = None
    exited: datetime | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)  # one per failed attempt, in order
    input: Any = None
    output: Any = None
    status: str = "running"  # succeeded | failed | caught | running | aborted
    waited_for_token: bool = False
    causes: list[str | None] = field(default_factory=list)  # beside `errors`
    tries: list[Attempt] = field(default_factory=list)
    error: str | None = None  # what ended a failed or caught visit (a Fail state's error too)
    cause: str | None = None
    parent: StateVisit | None = field(default=None, repr=False)
    branch: int | None = None  # Parallel branch index, from the ASL
    iteration: int | None = None  # Map item index
    parent_attempt: int | None = None  # which run of the Parallel / Map (a Retry re-runs it) it belongs to
    path: tuple[str, ...] = ()  # the state's place in the ASL: ("RunChecks", "ItemProcessor", "RunCheck")
    successor: StateVisit | None = field(default=None, repr=False)  # the next state entered in this scope
    iterations: int | None = None  # a Map's item count
    event_ids: list[int] = field(default_factory=list)
    _exited_event: bool = field(default=False, repr=False)

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def duration_ms(self) -> float | None:
        if self.entered and self.exited:
            return _ms(self.entered, self.exited)
        return None

    @property
    def node_id(self) -> str:
        return "/".join(self.path or (self.name,))

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1

    @property
    def token_wait_ms(self) -> float | None:
        waits = [a.token_wait_ms for a in self.tries if a.token_wait_ms is not None]
        return sum(waits) if waits else None

    @property
    def waiting_for_token(self) -> bool:
        """Still out: the task token has not come back yet."""
        return bool(self.tries) and self.tries[-1].waits_for_token and self.tries[-1].ended is None

    @property
    def resource(self) -> str | None:
        return self.tries[-1].resource if self.tries else None

    @property
    def scope(self) -> tuple[int | None, int | None, int | None]:
        return (id(self.parent) if self.parent else None, self.branch, self.iteration)

    def ancestors(self) -> Iterator[StateVisit]:
        v = self.parent
        while v is not None:
            yield v
            v = v.parent


def visits_from_history(events: list[dict], definition: str | Mapping[str, Any] | None = None) -> list[StateVisit]:
    """One StateVisit per state entered, in the order they were entered.

    With the state machine's definition, Parallel branches get their index and every visit its
    path in the ASL; without it, paths are still right for Map iterations and top-level states.
    """
    states = _states_by_path(definition)
    visits: list[StateVisit] = []
    owner: dict[int, StateVisit | None] = {}  # event id -> the visit it belongs to (None: the execution)
    types: dict[int, str] = {}
    details: dict[int, dict] = {}
    last: StateVisit | None = None  # fallback when an event has no usable previousEventId
    ended_with: tuple[str | None, str | None] | None = None

    for ev in events:
        eid, etype = ev["id"], ev["type"]
        prev: int | None = ev.get("previousEventId")
        # 0 (no previous event), or a history without previousEventId: read it in order
        prev_owner = owner.get(prev, last if prev is None else None) if prev is not None else last
        d = event_details(ev)
        types[eid], details[eid] = etype, d

        if etype.endswith("StateEntered"):
            info = ev.get("stateEnteredEventDetails", {})
            visit = StateVisit(name=info.get("name", "?"), type=etype[: -len("StateEntered")],
                               entered=ev.get("timestamp"), input=json_or_text(info.get("input")))
            prev_type = types.get(prev, "") if prev is not None else ""
            if prev_type == "ParallelStateStarted" and prev_owner is not None:
                visit.parent = prev_owner
                visit.branch = _branch_of(states, prev_owner.path, visit.name)
            elif prev_type == "MapIterationStarted" and prev_owner is not None and prev is not None:
                visit.parent = prev_owner
                visit.iteration = details[prev].get("index")
            elif prev_owner is not None:
                # The next state in the same scope (also after a Catch): a sibling.
                visit.parent, visit.branch, visit.iteration = prev_owner.parent, prev_owner.branch, prev_owner.iteration
                if prev_owner.successor is None:
                    prev_owner.successor = visit
            if visit.parent is not None:
                visit.parent_attempt = visit.parent.attempts
            visit.path = _path_of(states, visit)
            if visit.type == "Fail":  # what it fails with, as far as the ASL says (JSONPath ones: at the end)
                spec = states.get(visit.path)
                if spec is not None:
                    visit.error, visit.cause = spec.spec.get("Error"), spec.spec.get("Cause")
            visit.event_ids.append(eid)
            visits.append(visit)
            owner[eid] = last = visit
            continue

        owned = _owner(etype, d, prev_owner)
        owner[eid] = owned
        if etype in _EXECUTION_END:
            ended_with = (d.get("error"), d.get("cause"))
            continue
        if owned is None:
            continue
        visit = owned
        visit.event_ids.append(eid)
        last = visit
        ts = ev.get("timestamp")
        if etype.endswith("StateExited"):
            visit.exited = ts
            visit.output = json_or_text(ev.get("stateExitedEventDetails", {}).get("output"))
            visit._exited_event = True
        elif etype in _SCHEDULED or etype in _GROUP_STARTED:
            if etype in _GROUP_STARTED and visit.tries and visit.tries[-1].ended is None:
                # Run again by its Retry: the run before failed (not every engine says so with an event).
                before = visit.tries[-1]
                before.ended = ts
                before.error, before.cause = _last_error_below(visit, visits, before.number)
                before.error = before.error or "States.BranchFailed"
                visit.errors.append(before.error)
                visit.causes.append(before.cause)
            visit.attempts += 1
            attempt = Attempt(number=visit.attempts, scheduled=ts, started=ts if etype in _GROUP_STARTED else None,
                              resource=_resource(d))
            visit.tries.append(attempt)
            if attempt.waits_for_token:
                visit.waited_for_token = True
            if etype == "MapStateStarted":
                visit.iterations = d.get("length")
        elif etype in _STARTED:
            _current_attempt(visit).started = ts
        elif etype == "TaskSubmitted":
            _current_attempt(visit).submitted = ts
        elif etype in _SUCCEEDED or etype in _GROUP_SUCCEEDED:
            _current_attempt(visit).ended = ts
        elif etype in _FAILED or etype in _GROUP_FAILED or etype == "EvaluationFailed":
            attempt = _current_attempt(visit)
            if attempt.failed:  # a second report on the same try (an engine cancelling it): the first one stands
                continue
            error, cause = d.get("error"), d.get("cause")
            if error is None and etype in _GROUP_FAILED:
                error, cause = _last_error_below(visit, visits, attempt.number)
            attempt.ended, attempt.error, attempt.cause = ts, error or etype, cause
            visit.errors.append(attempt.error)
            visit.causes.append(attempt.cause)
        elif etype.endswith("StateAborted"):
            visit.status = "aborted"

    _settle(visits, states, ended_with)
    return visits


def _settle(visits: list[StateVisit], states: dict[tuple[str, ...], asl.State],
            ended_with: tuple[str | None, str | None] | None) -> None:
    """Each visit's final status, now that the whole history is known."""
    for v in reversed(visits):  # inner visits first: a Parallel's status may depend on its branches
        last_try = v.tries[-1] if v.tries else None
        if v.type == "Fail":
            v.status = "failed"
            if v.parent is None and ended_with is not None:
                v.error, v.cause = ended_with
        elif last_try is not None and last_try.failed:
            v.error, v.cause = last_try.error, last_try.cause
            # Handled if the workflow went on from here (a Catch), else it ended the scope.
            v.status = "caught" if (v.successor is not None or v._exited_event) else "failed"
        elif v.status == "aborted":
            pass
        elif v.exited is not None:
            v.status = "succeeded"
        elif ended_with is not None or any(a._exited_event or (a.tries and a.tries[-1].failed) for a in v.ancestors()):
            # Its execution, Parallel or Map ended around it (a sibling branch failed, say): it was
            # cancelled, after its work was done or during it.
            v.status = "succeeded" if last_try is not None and last_try.ended and not last_try.failed else "aborted"
        else:
            v.status = "running"


def _owner(etype: str, d: dict, prev_owner: StateVisit | None) -> StateVisit | None:
    if etype.startswith("Execution"):
        return None
    if etype.endswith("StateExited"):
        return _up(prev_owner, lambda v: v.name == d.get("name") and not v._exited_event) or prev_owner
    for prefix, kind in _GROUP_EVENT_PREFIXES:
        if etype.startswith(prefix):
            name = d.get("name")
            return _up(prev_owner, lambda v, kind=kind, name=name: v.type == kind and (name is None or v.name == name)) or prev_owner
    return prev_owner


def _up(visit: StateVisit | None, match: Any) -> StateVisit | None:
    while visit is not None:
        if match(visit):
            return visit
        visit = visit.parent
    return None


def _current_attempt(visit: StateVisit) -> Attempt:
    if not visit.tries:  # e.g. a failure before anything was scheduled (a bad Parameters path)
        visit.attempts = max(visit.attempts, 1)
        visit.tries.append(Attempt(number=1))
    return visit.tries[-1]


def _last_error_below(group: StateVisit, visits: list[StateVisit], attempt: int) -> tuple[str | None, str | None]:
    """The error that failed this run of a Parallel or Map: the latest one in its branches."""
    for v in reversed(visits):
        child = v if v.parent is group else next((a for a in v.ancestors() if a.parent is group), None)
        if child is None or child.parent_attempt != attempt:
            continue
        if v.errors:
            return v.errors[-1], v.causes[-1]
        if v.type == "Fail":
            return v.error, v.cause
    return None, None


def event_details(ev: dict) -> dict:
    """A history event's `...EventDetails` member ({} when it has none)."""
    for k, v in ev.items():
        if k.endswith("EventDetails") and isinstance(v, dict):
            return v
    return {}


def _resource(d: dict) -> str | None:
    if "resource" not in d:
        return None
    return f"{d['resourceType']}:{d['resource']}" if d.get("resourceType") else str(d["resource"])


def json_or_text(text: Any) -> Any:
    """JSON text as its value; anything else (text that is not JSON, None, a value) as it is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _ms(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() * 1000


# --- the ASL side -------------------------------------------------------------------------------


def _states_by_path(definition: str | Mapping[str, Any] | None) -> dict[tuple[str, ...], asl.State]:
    return asl.parse(definition).by_path() if definition else {}


def _branch_of(states: dict[tuple[str, ...], asl.State], parallel: tuple[str, ...], name: str) -> int | None:
    spec = states.get(parallel)
    if isinstance(spec, asl.Parallel):
        for i, branch in enumerate(spec.branches):
            if name in branch.states:
                return i
    return None


def _path_of(states: dict[tuple[str, ...], asl.State], visit: StateVisit) -> tuple[str, ...]:
    parent = visit.parent
    if parent is None:
        return (visit.name,)
    if parent.type == "Map":
        spec = states.get(parent.path)
        return parent.path + (spec.processor_key if isinstance(spec, asl.Map) else "ItemProcessor", visit.name)
    branch = f"Branches[{visit.branch}]" if visit.branch is not None else "Branches[?]"
    return parent.path + (branch, visit.name)


@dataclass
class Node:
    """A state of the machine (or a Parallel branch, or the Start / End marker) in the graph."""

    id: str
    name: str
    type: str  # an ASL type, or "Branch", "Start", "End"
    parent: str | None = None  # the id of the Parallel branch or Map around it
    comment: str | None = None
    resource: str | None = None
    retry: list[dict] = field(default_factory=list)
    catch: list[dict] = field(default_factory=list)
    end: bool = False

    @property
    def is_group(self) -> bool:
        return self.type in ("Parallel", "Map", "Branch")


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # next | choice | default | catch | start | end
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.source}->{self.target}:{self.kind}"


@dataclass
class Graph:
    """The state machine as nodes (states, nested in their Parallel branches and Maps) and edges."""

    nodes: list[Node]
    edges: list[Edge]

    START = "__start__"
    END = "__end__"

    @classmethod
    def from_definition(cls, definition: str | Mapping[str, Any]) -> Graph:
        nodes: list[Node] = [Node(cls.START, "Start", "Start")]
        edges: list[Edge] = []

        def block(spec: asl.Block, parent: str | None) -> None:
            for state in spec.states.values():
                nid, prefix = state.id, state.path[:-1]
                recovering = isinstance(state, (asl.Task, asl.Parallel, asl.Map))
                nodes.append(Node(nid, state.name, state.type, parent, state.comment, state.spec.get("Resource"),
                                  list(state.spec.get("Retry", [])) if recovering else [],
                                  list(state.spec.get("Catch", [])) if recovering else [], state.terminal))
                for t in state.transitions():
                    label = (choice_label(t.rule.spec) if isinstance(t.rule, asl.ChoiceRule)
                             else ", ".join(t.rule.error_equals) if isinstance(t.rule, asl.Catcher)
                             else "default" if t.kind == "default" else "")
                    edges.append(Edge(nid, "/".join(prefix + (t.target,)), t.kind, label))
                if isinstance(state, asl.Parallel):
                    for i, branch in enumerate(state.branches):
                        bid = "/".join(state.branch_path(i))
                        nodes.append(Node(bid, f"branch {i + 1}", "Branch", nid))
                        block(branch, bid)
                elif isinstance(state, asl.Map) and state.processor is not None:
                    block(state.processor, nid)
                if parent is None and state.terminal:
                    edges.append(Edge(nid, cls.END, "end"))

        definition_ = asl.parse(definition)
        block(definition_, None)
        if definition_.start_at:
            edges.insert(0, Edge(cls.START, definition_.start_at, "start"))
        nodes.append(Node(cls.END, "End", "End"))
        return cls(nodes, edges)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def states(self) -> list[Node]:
        """The machine's states (no branches, no Start / End markers)."""
        return [n for n in self.nodes if n.type not in ("Branch", "Start", "End")]


def choice_label(rule: Mapping[str, Any]) -> str:
    """A short reading of a Choice rule: `$.inspection.passed == true`, `not $.x present`."""
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"]).removeprefix("{%").removesuffix("%}").strip()
    for key in ("And", "Or"):
        if key in rule:
            return f" {key.lower()} ".join(f"({choice_label(r)})" for r in rule[key])
    if "Not" in rule:
        return f"not ({choice_label(rule['Not'])})"
    variable = rule.get("Variable", "")
    ops = {"Equals": "==", "GreaterThan": ">", "GreaterThanEquals": ">=", "LessThan": "<", "LessThanEquals": "<="}
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        op = key[:-4] if key.endswith("Path") else key
        shown = value if key.endswith("Path") else json.dumps(value)
        for suffix, symbol in ops.items():
            if op.endswith(suffix) and op != suffix:
                return f"{variable} {symbol} {shown}"
        if op == "IsPresent":
            return f"{variable} {'present' if value else 'absent'}"
        if op == "IsNull":
            return f"{variable} {'is' if value else 'is not'} null"
        if op.startswith("Is"):
            return f"{variable} {'is' if value else 'is not'} {op[2:].lower()}"
        if op == "StringMatches":
            return f"{variable} matches {shown}"
        return f"{variable} {key} {shown}"
    return variable


# --- one execution --------------------------------------------------------------------------------


@dataclass
class StateSummary:
    """What happened at one node of the graph, over all its visits (loops, Map iterations)."""

    node_id: str
    visits: list[StateVisit]

    @property
    def status(self) -> str:
        found = {v.status for v in self.visits}
        for s in ("failed", "running", "caught", "aborted", "succeeded"):
            if s in found:
                return s
        return "not-visited"

    @property
    def retries(self) -> int:
        return sum(v.retries for v in self.visits)

    @property
    def classes(self) -> list[str]:
        """CSS classes for the graph: the status, and `retried` when any attempt was retried."""
        return [self.status] + (["retried"] if self.retries else []) + (
            ["waited"] if any(v.waited_for_token for v in self.visits) else [])


@dataclass
class ExecutionTrace:
    execution_arn: str
    state_machine_arn: str
    status: str
    started: datetime | None
    stopped: datetime | None
    input: Any
    output: Any
    error: str | None
    cause: str | None
    events: list[dict]
    definition: Mapping[str, Any] | None
    visits: list[StateVisit]
    state_machine_name: str = ""

    @classmethod
    def build(cls, description: dict, events: list[dict], definition: str | Mapping[str, Any] | None = None,
              state_machine_name: str = "") -> ExecutionTrace:
        defn = json.loads(definition) if isinstance(definition, str) else definition
        sm_arn = description.get("stateMachineArn", "")
        return cls(
            execution_arn=description["executionArn"],
            state_machine_arn=sm_arn,
            status=description["status"],
            started=description.get("startDate"),
            stopped=description.get("stopDate"),
            input=json_or_text(description.get("input")),
            output=json_or_text(description.get("output")),
            error=description.get("error"),
            cause=description.get("cause"),
            events=events,
            definition=defn,
            visits=visits_from_history(events, defn),
            state_machine_name=state_machine_name or sm_arn.rsplit(":", 1)[-1],
        )

    @property
    def name(self) -> str:
        return self.execution_arn.rsplit(":", 1)[-1]

    @property
    def duration_ms(self) -> float | None:
        return _ms(self.started, self.stopped) if self.started and self.stopped else None

    @property
    def running(self) -> bool:
        return self.status == "RUNNING"

    def graph(self) -> Graph | None:
        return Graph.from_definition(self.definition) if self.definition else None

    def offset_ms(self, when: datetime | None) -> float | None:
        """Milliseconds since the execution started."""
        return _ms(self.started, when) if self.started and when else None

    def summaries(self) -> dict[str, StateSummary]:
        """Node id -> its summary, for every state of the machine (not-visited ones included)."""
        out: dict[str, StateSummary] = {}
        graph = self.graph()
        if graph:
            for n in graph.states():
                out[n.id] = StateSummary(n.id, [])
        for v in self.visits:
            out.setdefault(v.node_id, StateSummary(v.node_id, [])).visits.append(v)
        return out

    def taken_edges(self) -> set[tuple[str, str]]:
        """(source, target) node ids of the transitions this execution made."""
        taken: set[tuple[str, str]] = set()
        roots = [v for v in self.visits if v.parent is None]
        if roots:
            taken.add((Graph.START, roots[0].node_id))
        for v in self.visits:
            if v.successor is not None:
                taken.add((v.node_id, v.successor.node_id))
        if self.status != "RUNNING" and roots:
            final = roots[-1]
            if final.successor is None and final.status in ("succeeded", "failed"):
                taken.add((final.node_id, Graph.END))
        return taken

    def event_state(self) -> dict[int, StateVisit]:
        """Event id -> the visit it belongs to."""
        return {eid: v for v in self.visits for eid in v.event_ids}

    def as_dict(self) -> dict[str, Any]:
        """The execution and what each state did, as JSON-ready data (`fleet trace --output json`)."""
        return {
            "execution_arn": self.execution_arn, "name": self.name, "state_machine": self.state_machine_name,
            "status": self.status, "started": self.started, "stopped": self.stopped, "duration_ms": self.duration_ms,
            "input": self.input, "output": self.output, "error": self.error, "cause": self.cause,
            "states": [{
                "name": v.name, "type": v.type, "node_id": v.node_id, "status": v.status, "entered": v.entered,
                "offset_ms": self.offset_ms(v.entered), "duration_ms": v.duration_ms, "iteration": v.iteration,
                "branch": v.branch, "retries": v.retries, "waiting_for_token": v.waiting_for_token,
                "token_wait_ms": v.token_wait_ms, "error": v.error, "cause": v.cause,
                "attempts": [{"number": a.number, "error": a.error, "cause": a.cause,
                              "offset_ms": self.offset_ms(a.scheduled or a.started)} for a in v.tries],
                "input": v.input, "output": v.output,
            } for v in self.visits],
        }


def load_trace(sfn: Any, execution_arn: str) -> ExecutionTrace:
    """DescribeExecution + GetExecutionHistory + DescribeStateMachine -> ExecutionTrace."""
    description = sfn.describe_execution(executionArn=execution_arn)
    events: list[dict] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    machine = sfn.describe_state_machine(stateMachineArn=description["stateMachineArn"])
    return ExecutionTrace.build(description, events, machine.get("definition"), machine.get("name", ""))


def machines_named(sfn: Any, names: list[str]) -> list[str]:
    """The ARNs of the state machines with these names at this client's endpoint (those deployed)."""
    arns = {}
    for page in sfn.get_paginator("list_state_machines").paginate():
        for item in page["stateMachines"]:
            arns[item["name"]] = item["stateMachineArn"]
    return [arns[n] for n in names if n in arns]


def resolve_execution(sfn: Any, ref: str, machine_arns: list[str]) -> str:
    """An execution ARN from an ARN, an execution name, or the start of one, looked up in these
    state machines.

    Raises LookupError when no such execution exists there, or the name (or prefix) names several."""
    from botocore.exceptions import ClientError

    if ref.startswith("arn:"):
        if ":execution:" not in ref and ":express:" not in ref:
            raise LookupError(f"{ref} is not an execution ARN")
        return ref
    if not ref:
        raise LookupError("no execution named ''")
    found = []
    searched = [arn.rsplit(":", 1)[-1] for arn in machine_arns]
    for machine in machine_arns:
        candidate = machine.replace(":stateMachine:", ":execution:", 1) + f":{ref}"
        try:
            sfn.describe_execution(executionArn=candidate)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn", "ResourceNotFound",
                                                 "InvalidName", "ValidationException"):
                continue
            raise
        found.append(candidate)
    if not found:
        found = [e["executionArn"] for machine in machine_arns
                 for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
                 for e in page["executions"] if e["name"].startswith(ref)]
    if not found:
        where = ", ".join(searched) if searched else "none of the fleet's state machines are deployed here"
        raise LookupError(f"no execution named {ref!r} or starting so (searched: {where})")
    if len(found) > 1:
        names = ", ".join(arn.rsplit(":", 2)[-2] + ":" + arn.rsplit(":", 1)[-1] for arn in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        raise LookupError(f"{ref!r} names {len(found)} executions ({names}{more}); give more of the name, or the ARN")
    return found[0]
