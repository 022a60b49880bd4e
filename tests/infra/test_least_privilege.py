"""Least privilege, proven: each function's role in the synthesized template allows every AWS call
the function is observed to make, and nothing it is never observed to make.

moto does not enforce IAM, so a missing action passes every local test and fails on AWS with
AccessDenied. The local runtime records each function's calls (workflows/local/call_log.py) while
`tests/infra/lifecycle.py` drives every workflow path through the REST API (successes, named
outcomes, operational failures into the DLQ, the DLQ listed and redriven); the calls recorded by
the rest of the session so far are checked as well. A grant no path of the lifecycle exercises is
allowed only with its reason in `UNOBSERVED`.
"""

from __future__ import annotations

import pytest

from tests.infra.helpers import canonical, role_grants
from workflows.definitions import catalog, permissions
from workflows.definitions.catalog import Ref
from workflows.local.call_log import Call, CallLog

# Granted, not exercised by the lifecycle: each with the path that needs it.
UNOBSERVED: dict[tuple[str, str, str], str] = {
    ("FleetApi", "dynamodb:GetItem", "table:Idempotency"):
        "Powertools reads the stored record when a replayed Idempotency-Key's put is refused without the old item",
    ("FleetApi", "dynamodb:DeleteItem", "table:Idempotency"):
        "Powertools deletes the in-progress record when the route's action raises (a start that fails)",
    ("EnterMaintenance", "dynamodb:GetItem", "table:MaintenanceJobs"):
        "a retry after a first attempt that committed re-reads the job it opened",
    ("CompleteTrip", "dynamodb:GetItem", "table:Rides"):
        "a trip whose wait ran out after its report was claimed reads the report from the ride (tests/workflows)",
    ("ReleaseStranded", "dynamodb:Query", "index:Cars/status-index"):
        "a dispatch that ends between ReserveCar and StartTrip: the car RESERVED for its ride is found by the status index",
    ("FleetApi", "dynamodb:PutItem", "table:Failures"):
        "the DLQ's sweep records a queue message that has no failure row (sent by an older definition, or its "
        "RecordFailure failed: tests/reliability/test_dlq.py)",
    ("RequestSignOff", "dynamodb:GetItem", "table:MaintenanceJobs"):
        "a retry whose token write is refused re-reads the job to tell a replay from a conflict",
}


def _lambda_service_grants() -> dict[tuple[str, str, str], str]:
    """What the Lambda service itself does with a function's role: an event consumer's failed
    asynchronous events go to its on-failure queue (CDK's SqsDestination grants these three)."""
    consumers = [(c, b.on_failure_queue) for b in catalog.BUSES for c in b.consumers]
    consumers += [(r.function, r.on_failure_queue) for r in catalog.EXECUTION_STATUS_RULES]
    return {(consumer, action, f"queue:{queue}"):
            "Lambda sends an event whose retries are spent to the on-failure destination with the function's role"
            for consumer, queue in consumers for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")}


UNOBSERVED.update(_lambda_service_grants())

# Every role also writes its own logs and traces: not catalog resources, checked apart.
OBSERVABILITY = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.fixture(scope="module")
def observed() -> set[Call]:
    from tests.infra import lifecycle
    from workflows.local.cloud import LocalCloud

    with CallLog() as log, LocalCloud(virtual_time=True, fault_hook=lifecycle.faults()) as cloud:
        seen = lifecycle.exercise(cloud)
        cloud.runtime.wait_for_async(10)
    assert seen["route_fails"] == "FAILED" and seen["maintenance"] == ["FAILED", "SUCCEEDED", "SUCCEEDED"], seen
    assert len(seen["dlq"]["messages"]) == 3, seen["dlq"]
    assert seen["released"] == ("FAILED", "FAILED"), seen["released"]
    return log.calls()


@pytest.fixture(scope="module")
def granted(synth) -> set[Call]:
    """(function, action, resource) for every grant of every function role, resources as catalog keys."""
    keys = _resource_keys(synth)
    found: set[Call] = set()
    for f in catalog.FUNCTIONS:
        role = synth.logical_id(synth.stack.resources.functions[f.logical_id].role)
        for action, resource in role_grants(synth, role):
            if action in OBSERVABILITY:
                continue
            assert resource in keys, f"{f.logical_id}: {action} on {resource}, not a catalog resource"
            found.add(Call(f.logical_id, action, keys[resource]))
    return found


def test_every_observed_call_is_allowed(observed, granted, session_calls):
    token_machines = _task_token_machines()
    missing = set()
    for call in observed | session_calls:
        if call.resource == "*":  # a task token: the execution's machine is one that waits for tokens
            ok = all(Call(call.function, call.action, f"state_machine:{sm}") in granted for sm in token_machines)
        else:
            ok = call in granted
        if not ok:
            missing.add(call)
    assert not missing, "calls the role does not allow (AccessDenied on AWS):\n" + "\n".join(map(str, sorted(missing)))


def test_nothing_is_granted_that_is_never_called(observed, granted):
    token_machines = _task_token_machines()
    used = set(observed)
    for call in observed:
        if call.resource == "*":
            used |= {Call(call.function, call.action, f"state_machine:{sm}") for sm in token_machines}
    unused = {g for g in granted - used if (g.function, g.action, g.resource) not in UNOBSERVED}
    assert not unused, "granted, never called:\n" + "\n".join(map(str, sorted(unused)))


def test_every_documented_exception_is_still_granted(granted):
    assert set(UNOBSERVED) <= {(g.function, g.action, g.resource) for g in granted}


def test_functions_without_aws_calls_hold_no_grant(observed, granted):
    callers = {c.function for c in observed}
    for f in catalog.FUNCTIONS:
        if f.logical_id in ("PlanRoute", "ValidateCar", "RunCheck", "InspectCar", "Diagnose", "OrderParts",
                            "BookTechnician", "RoadTest"):
            assert f.logical_id not in callers, f.logical_id
            assert not f.grants and not {g for g in granted if g.function == f.logical_id}, f.logical_id


def test_the_dlq_defect_is_caught(granted):
    """The API's DLQ view and redrive need more than SendMessage on the queue."""
    for action in ("sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"):
        assert Call("FleetApi", action, "queue:Dlq") in granted


def test_a_function_environment_names_what_it_may_use():
    """What it may call, and the state machines whose executions a rule hands it (to tell them apart)."""
    for f in catalog.FUNCTIONS:
        named = {(r.kind, r.logical_id) for r in f.environment.values() if isinstance(r, Ref)}
        watched = {("state_machine", sm) for r in catalog.EXECUTION_STATUS_RULES if r.function == f.logical_id
                   for sm in r.state_machines}
        assert named == {(g.resource.kind, g.resource.logical_id) for g in f.grants} | watched, f.logical_id


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def session_calls(request) -> set[Call]:
    log = getattr(request.config, "fleet_call_log", None)
    return log.calls() if log is not None else set()


def _task_token_machines() -> list[str]:
    return [sm.logical_id for sm in catalog.STATE_MACHINES
            if any(u.pattern == "wait_for_task_token" for u in permissions.analyze(sm.definition()))]


def _resource_keys(synth) -> dict[str, str]:
    """Every catalog resource's ARN as the template spells it -> the key call_log records."""
    resources = synth.stack.resources
    found: dict[str, str] = {}

    def add(arn: str, key: str) -> None:
        found[canonical(synth.resolve(arn))] = key

    for t in catalog.TABLES:
        arn = resources.arn(Ref("table", t.logical_id, "arn"))
        add(arn, f"table:{t.logical_id}")
        for ix in t.indexes:
            add(f"{arn}/index/{ix.name}", f"index:{t.logical_id}/{ix.name}")
    for q in catalog.QUEUES:
        add(resources.arn(Ref("queue", q.logical_id, "arn")), f"queue:{q.logical_id}")
    for b in catalog.BUSES:
        add(resources.arn(Ref("bus", b.logical_id, "arn")), f"bus:{b.logical_id}")
    for sm in catalog.STATE_MACHINES:
        add(resources.state_machine_arn(sm.logical_id), f"state_machine:{sm.logical_id}")
        add(resources.executions_arn(sm.logical_id), f"executions:{sm.logical_id}")
    for f in catalog.FUNCTIONS:
        add(resources.arn(Ref("function", f.logical_id, "arn")), f"function:{f.logical_id}")
    return found
