"""The trace model (history -> per-state visits) on real histories of every workflow path.

First, properties every trace must have, checked on every execution against its own ASL: each
visit is a state of the machine, each step from one state to the next is a transition the ASL
allows (a Catch when the state failed), retries stay within the Retry rules. Then what each path
must show: its states, retries with their errors, caught errors, waits for a task token, nesting.
"""

from __future__ import annotations

import pytest

from workflows.cli import render
from workflows.definitions import asl
from workflows.targets import stepfunctions
from workflows.trace.model import Graph, StateVisit, visits_from_history

SCENARIOS = ["register_happy", "register_retried", "register_dlq", "register_invalid", "register_duplicate",
             "register_rejected", "register_markup", "dispatch_trip", "dispatch_no_car", "dispatch_invalid",
             "maintenance_signed_off", "maintenance_parts_down", "maintenance_checks_fail", "nested_ok",
             "nested_refused"]


def names(trace, parent=None):
    return [v.name for v in trace.visits if v.parent is parent]


def visit(trace, name, nth=0) -> StateVisit:
    return [v for v in trace.visits if v.name == name][nth]


def matches(rule_errors: list[str], error: str) -> bool:
    return "States.ALL" in rule_errors or error in rule_errors or (
        "States.TaskFailed" in rule_errors and not error.startswith("States."))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_trace_follows_its_state_machine(traced, scenario):
    trace = traced.trace(scenario)
    graph = Graph.from_definition(trace.definition)
    states = {s.id: s.spec for s in asl.parse(trace.definition).walk()}
    edges = {(e.source, e.target): e for e in graph.edges}
    assert trace.status in ("SUCCEEDED", "FAILED") and trace.visits

    for v in trace.visits:
        assert v.node_id in states, f"{v.node_id} is not a state of {trace.state_machine_name}"
        assert v.type == states[v.node_id]["Type"]
        assert v.status in ("succeeded", "failed", "caught", "aborted"), (v.node_id, v.status)  # nothing left running
        assert v.entered is not None and (v.exited is None or v.exited >= v.entered)
        for parent in v.ancestors():  # nested visits happen inside their Parallel / Map
            assert parent.entered <= v.entered and (parent.exited is None or v.entered <= parent.exited)
        retry = states[v.node_id].get("Retry", [])
        assert v.retries <= sum(r.get("MaxAttempts", 3) for r in retry), v.node_id
        assert len(v.errors) == len([a for a in v.tries if a.failed])
        if v.status == "caught":
            catch = edges[(v.node_id, v.successor.node_id)] if v.successor else None
            assert catch is not None and catch.kind == "catch", f"{v.node_id} went on without a Catch"
            assert matches(catch.label.split(", "), v.error)

    for source, target in trace.taken_edges():
        assert (source, target) in edges, f"{source} -> {target} is no transition of the ASL"

    # Every event that is not the execution's own belongs to exactly one visit.
    owned = [eid for v in trace.visits for eid in v.event_ids]
    assert len(owned) == len(set(owned))
    unowned = {e["type"] for e in trace.events if e["id"] not in set(owned)}
    assert unowned <= {"ExecutionStarted", "ExecutionSucceeded", "ExecutionFailed"}

    roots = [v for v in trace.visits if v.parent is None]
    if trace.status == "SUCCEEDED":
        assert roots[-1].status == "succeeded" and roots[-1].successor is None
    else:
        assert roots[-1].status == "failed"
        assert roots[-1].error == trace.error


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if not s.startswith("nested")])
def test_the_client_view_is_the_trace_view(traced, scenario):
    """`fleet run` and the tests read the same model (stepfunctions.describe without the definition)."""
    trace = traced.trace(scenario)
    result = stepfunctions.describe(traced.sfn, trace.execution_arn)
    assert result.states == [v.name for v in trace.visits]
    assert [v.status for v in result.visits] == [v.status for v in trace.visits]
    assert result.retries == sum(v.retries for v in trace.visits)


# --- register -------------------------------------------------------------------------------------


def test_happy_registration(traced):
    trace = traced.trace("register_happy")
    assert names(trace)[:3] == ["ValidateCar", "PersistCar", "InspectCar"]
    assert names(trace)[-1] == "CarRegistered"
    assert all(v.status == "succeeded" and v.attempts <= 1 and not v.errors for v in trace.visits)
    assert all(v.duration_ms is not None and v.duration_ms >= 0 for v in trace.visits)
    assert visit(trace, "ValidateCar").resource == "lambda:invoke"
    assert visit(trace, "PersistCar").resource == "dynamodb:putItem"
    summaries = trace.summaries()
    assert summaries["CarRegistered"].classes == ["succeeded"]
    assert summaries["SendToDLQ"].status == "not-visited"


def test_retried_inspection_shows_each_attempt_and_its_error(traced):
    inspect = visit(traced.trace("register_retried"), "InspectCar")
    assert (inspect.status, inspect.attempts, inspect.retries) == ("succeeded", 3, 2)
    assert inspect.errors == ["TransientInspectionError"] * 2
    assert [a.failed for a in inspect.tries] == [True, True, False]
    assert all("telemetry link timed out" in a.cause for a in inspect.tries[:2])
    assert inspect.tries[0].scheduled < inspect.tries[1].scheduled < inspect.tries[2].scheduled
    assert traced.trace("register_retried").summaries()["InspectCar"].classes == ["succeeded", "retried"]


def test_inspection_caught_to_the_dlq(traced):
    trace = traced.trace("register_dlq")
    inspect = visit(trace, "InspectCar")
    assert (inspect.status, inspect.attempts, inspect.error) == ("caught", 4, "TransientInspectionError")
    assert inspect.successor.name == "InspectCarFailed"
    assert "SendToDLQ" in names(trace)
    final = trace.visits[-1]
    assert (final.name, final.type, final.status, final.error) == ("RegistrationFailed", "Fail", "failed",
                                                                    "TransientInspectionError")
    assert trace.summaries()["InspectCar"].classes == ["caught", "retried"]
    assert ("InspectCar", "InspectCarFailed") in trace.taken_edges()
    assert ("RegistrationFailed", Graph.END) in trace.taken_edges()


def test_validation_error_is_caught_and_fails_with_the_field(traced):
    trace = traced.trace("register_invalid")
    assert names(trace) == ["ValidateCar", "ExplainInvalidCar", "InvalidCar"]
    validate = trace.visits[0]
    assert (validate.status, validate.error, validate.attempts) == ("caught", "CarValidationError", 1)
    assert trace.visits[-1].status == "failed" and trace.visits[-1].cause.startswith("vin:")


def test_duplicate_is_caught_as_a_named_outcome(traced):
    trace = traced.trace("register_duplicate")
    persist = visit(trace, "PersistCar")
    assert (persist.status, persist.error) == ("caught", "DynamoDB.ConditionalCheckFailedException")
    assert trace.status == "SUCCEEDED" and names(trace)[-1] == "CarAlreadyRegistered"


def test_failed_inspection_takes_the_choice_default(traced):
    trace = traced.trace("register_rejected")
    choice = visit(trace, "InspectionPassed")
    assert choice.successor.name == "RejectCar"
    graph = Graph.from_definition(trace.definition)
    [edge] = [e for e in graph.edges if (e.source, e.target) == ("InspectionPassed", "RejectCar")]
    assert edge.kind == "default"


# --- dispatch -------------------------------------------------------------------------------------


def test_trip_waits_for_its_task_token(traced):
    running = traced.running["dispatch_trip"]
    assert running.status == "RUNNING" and running.running
    start_trip = running.visits[-1]
    assert (start_trip.name, start_trip.status, start_trip.waiting_for_token) == ("StartTrip", "running", True)
    assert start_trip.resource == "lambda:invoke.waitForTaskToken"
    assert running.summaries()["StartTrip"].status == "running"

    done = traced.trace("dispatch_trip")
    start_trip = visit(done, "StartTrip")
    assert start_trip.status == "succeeded" and start_trip.waited_for_token and not start_trip.waiting_for_token
    assert start_trip.token_wait_ms is not None and start_trip.token_wait_ms >= 0
    assert done.output["outcome"] == "TripCompleted"
    assert "waited" in done.summaries()["StartTrip"].classes


def test_no_car_and_invalid_ride(traced):
    no_car = traced.trace("dispatch_no_car")
    assert visit(no_car, "LookAgain").successor.name == "RejectRide"
    assert no_car.output["outcome"] == "NoCarAvailable"
    invalid = traced.trace("dispatch_invalid")
    assert visit(invalid, "FindCandidates").status == "caught"
    assert invalid.visits[-1].name == "InvalidRide" and invalid.error == "RideValidationError"


# --- maintenance: Parallel, Map, sign-off ---------------------------------------------------------


def test_parallel_branches_and_map_iterations_are_nested(traced):
    trace = traced.trace("maintenance_signed_off")
    prepare = visit(trace, "PrepareRepair")
    branches = sorted((v.branch, v.node_id) for v in trace.visits if v.parent is prepare)
    assert branches == [(0, "PrepareRepair/Branches[0]/OrderParts"), (1, "PrepareRepair/Branches[1]/BookTechnician")]

    checks = visit(trace, "RunChecks")
    runs = [v for v in trace.visits if v.parent is checks]
    assert checks.iterations == len(runs) >= 2
    assert sorted(v.iteration for v in runs) == list(range(len(runs)))
    assert {v.node_id for v in runs} == {"RunChecks/ItemProcessor/RunCheck"}
    [retried] = [v for v in runs if v.retries]  # the injected fault hit exactly one check, once
    assert (retried.attempts, retried.errors, retried.status) == (2, ["TransientCheckError"], "succeeded")
    summary = trace.summaries()["RunChecks/ItemProcessor/RunCheck"]
    assert (summary.status, summary.retries, len(summary.visits)) == ("succeeded", 1, len(runs))

    sign_off = visit(trace, "RequestSignOff")
    assert sign_off.waited_for_token and sign_off.status == "succeeded"
    running = traced.running["maintenance_signed_off"]
    assert running.visits[-1].name == "RequestSignOff" and running.visits[-1].waiting_for_token


def test_failed_branch_fails_the_parallel_which_is_caught(traced):
    trace = traced.trace("maintenance_parts_down")
    prepare = visit(trace, "PrepareRepair")
    assert (prepare.status, prepare.error, prepare.successor.name) == ("caught", "PartsSupplierDown", "PrepareRepairFailed")
    order = visit(trace, "OrderParts")
    assert (order.status, order.error, order.parent) == ("failed", "PartsSupplierDown", prepare)
    # The other branch was cancelled: before it began, while it ran, or after its work was done.
    booked = [(v.status, v.error, v.causes) for v in trace.visits if v.name == "BookTechnician"]
    assert all(status in ("succeeded", "aborted") for status, _, _ in booked), booked
    assert trace.summaries()["PrepareRepair/Branches[0]/OrderParts"].status == "failed"


def test_failed_iterations_fail_the_map_which_is_caught(traced):
    trace = traced.trace("maintenance_checks_fail")
    checks = visit(trace, "RunChecks")
    assert (checks.status, checks.error, checks.successor.name) == ("caught", "TransientCheckError", "RunChecksFailed")
    failed = [v for v in trace.visits if v.parent is checks and v.status == "failed"]
    # The first check out of retries fails the Map; the others are cancelled where they are.
    assert any(v.attempts == 4 and v.errors == ["TransientCheckError"] * 4 for v in failed)
    assert all(v.errors[0] == "TransientCheckError" and v.attempts <= 4 for v in failed)


# --- our nested machine ---------------------------------------------------------------------------


def test_a_retried_parallel_counts_its_runs_and_groups_its_branches_by_run(traced):
    trace = traced.trace("nested_refused")
    fan = visit(trace, "Fan")
    assert (fan.attempts, fan.retries, fan.status) == (3, 2, "caught")
    assert fan.errors == ["FlakyBranch"] * 3 and fan.causes[0] == "the branch blew up"
    assert fan.successor.name == "FanFailed"
    explode = [v for v in trace.visits if v.name == "Explode"]
    assert [v.parent_attempt for v in explode] == [1, 2, 3]
    assert all(v.node_id == "Fan/Branches[1]/Explode" and v.branch == 1 and v.status == "failed" for v in explode)
    assert trace.summaries()["Fan"].classes == ["caught", "retried"]

    ask = visit(trace, "AskOperator")
    assert (ask.status, ask.error, ask.waited_for_token) == ("caught", "OperatorSaidNo", True)
    assert trace.visits[-1].name == "Refused" and trace.error == "Refused"


def test_map_iterations_take_their_own_choice(traced):
    trace = traced.trace("nested_ok")
    items = visit(trace, "Items")
    sizes = {v.iteration: v.successor.name for v in trace.visits if v.name == "Size"}
    assert items.iterations == 3 and sizes == {0: "Small", 1: "Big", 2: "Big"}
    taken = trace.taken_edges()
    assert {("Items/ItemProcessor/Size", "Items/ItemProcessor/Small"), ("Items/ItemProcessor/Size", "Items/ItemProcessor/Big")} <= taken
    assert visit(trace, "Fan").attempts == 1 and visit(trace, "Calm").branch == 1
    assert trace.running is False and traced.running["nested_ok"].visits[-1].waiting_for_token


# --- without the definition, and without previousEventId --------------------------------------------


def test_without_the_definition_nesting_still_holds(traced):
    events = traced.trace("nested_refused").events
    visits = visits_from_history(events)  # as stepfunctions.describe does
    assert {v.node_id for v in visits if v.name == "Explode"} == {"Fan/Branches[?]/Explode"}
    assert {v.node_id for v in visits if v.name == "Size"} == {"Items/ItemProcessor/Size"}
    assert [v.status for v in visits] == [v.status for v in traced.trace("nested_refused").visits]


def test_a_history_without_previous_event_ids_reads_in_order(traced):
    trace = traced.trace("register_dlq")
    bare = [{k: v for k, v in e.items() if k != "previousEventId"} for e in trace.events]
    visits = visits_from_history(bare, trace.definition)
    assert [(v.name, v.status, v.attempts) for v in visits] == [(v.name, v.status, v.attempts) for v in trace.visits]


def test_states_line_for_the_cli(traced):
    result = stepfunctions.describe(traced.sfn, traced.arns["register_dlq"])
    assert "InspectCar (3 retries: TransientInspectionError)" in render.states_line(result)
