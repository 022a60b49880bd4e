"""Input and output processing, step by step (workflows/trace/io_steps.py), on every visit of the
package's real executions: where the steps can be worked out, they arrive at the output Step
Functions recorded, and the recorded steps are what the history says."""

from __future__ import annotations

import pytest

from workflows.definitions import asl
from workflows.trace.io_steps import UNKNOWN, evaluate, io_steps, place, select


def all_steps(trace):
    states = asl.parse(trace.definition).by_path()
    events = {ev["id"]: ev for ev in trace.events}
    for visit in trace.visits:
        yield visit, states.get(visit.path), io_steps(states.get(visit.path), visit, events)


@pytest.mark.parametrize("scenario", ["register_happy", "register_retried", "register_dlq", "dispatch_trip",
                                      "maintenance_signed_off", "nested_ok"])
def test_worked_out_steps_arrive_at_the_recorded_output(traced, scenario):
    checked = 0
    for visit, state, steps in all_steps(traced.trace(scenario)):
        if not steps or visit.status != "succeeded" or visit.type in ("Succeed", "Fail"):
            continue
        names = [s["step"] for s in steps]
        assert names[0] == "state input" and steps[0]["value"] == visit.input
        assert names[-1] == "OutputPath" and steps[-1]["value"] == visit.output
        by = {s["step"]: s for s in steps}
        if "ResultPath" in by and by["ResultPath"]["known"] and state.spec.get("OutputPath", "$") == "$":
            assert by["ResultPath"]["value"] == visit.output, (scenario, visit.node_id)
            checked += 1
    assert checked >= 2, scenario


def test_a_lambda_tasks_steps_name_each_expression(traced):
    trace = traced.trace("register_happy")
    visit, state, steps = next((v, s, st) for v, s, st in all_steps(trace) if v.name == "InspectCar")
    names = [s["step"] for s in steps]
    assert names[:3] == ["state input", "InputPath", "Parameters"] and "task result" in names
    by = {s["step"]: s for s in steps}
    assert by["Parameters"]["recorded"] and by["Parameters"]["expression"] == state.spec["Parameters"]
    assert by["task result"]["recorded"]
    if "ResultSelector" in state.spec:
        assert by["ResultSelector"]["expression"] == state.spec["ResultSelector"]
    assert by["ResultPath"]["expression"] == state.spec.get("ResultPath", "$")


def test_reference_paths_and_templates():
    doc = {"a": {"b": [10, 20]}, "c d": 1}
    assert select(doc, "$") == doc and select(doc, "$.a.b[1]") == 20 and select(doc, "$['c d']") == 1
    assert select(doc, None) == {} and select(doc, "$.missing") is UNKNOWN and select(doc, "$..b") is UNKNOWN
    assert place(doc, "$.a.x", 5)["a"] == {"b": [10, 20], "x": 5} and doc["a"] == {"b": [10, 20]}
    assert place(doc, None, 5) == doc and place(doc, "$", 5) == 5
    assert evaluate({"v.$": "$.a.b[0]", "k": "lit", "n": {"w.$": "$['c d']"}}, doc) == {"v": 10, "k": "lit", "n": {"w": 1}}
    assert evaluate({"t.$": "States.Format('{}', $.c)"}, doc) is UNKNOWN
    assert evaluate({"t.$": "$$.Execution.Id"}, doc) is UNKNOWN
