"""The cost model on real histories of the register workflow, run on the local cloud: every
state entered is a transition (Pass, Choice and Fail too), every retry one more; every Lambda
attempt that ran is billed (a throttled one is not)."""

from __future__ import annotations

import math

import pytest

from workflows.cost.model import Prices, Usage, analyze, bill
from workflows.cost.sample import load_execution
from workflows.definitions import catalog
from workflows.local.faults import FaultRule
from workflows.targets import stepfunctions

PRICES = Prices.load()
CAR = {"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4,
       "location": {"lat": 52.52, "lon": 13.405}, "battery_pct": 88}


def priced(fleet, payload=CAR):
    result = fleet.run("register", payload)
    return result, load_execution(fleet.sfn, result.execution_arn)


def types_entered(fleet, arn):
    return [e["type"] for e in stepfunctions.history(fleet.sfn, arn) if e["type"].endswith("StateEntered")]


def test_happy_path(fleet):
    result, ex = priced(fleet)
    assert result.states == ["ValidateCar", "PersistCar", "InspectCar", "InspectionPassed", "ActivateCar",
                             "PublishCarRegistered", "CarRegistered"]
    # 5 Tasks, 1 Choice, 1 Pass: all of them transitions.
    assert ex.transitions == 7 and ex.retries == 0
    assert sorted(set(types_entered(fleet, result.execution_arn))) == ["ChoiceStateEntered", "PassStateEntered",
                                                                        "TaskStateEntered"]
    assert [(r.state, r.function, r.memory_mb, r.billed) for r in ex.lambdas] == [
        ("ValidateCar", "ValidateCar", 256, True), ("InspectCar", "InspectCar", 256, True)]
    assert all(r.billed_ms == max(1, math.ceil(r.duration_ms)) for r in ex.lambdas)  # whole ms, rounded up
    assert [(c.state, c.service, c.action) for c in ex.integrations] == [
        ("PersistCar", "dynamodb", "putItem"), ("ActivateCar", "dynamodb", "updateItem"),
        ("PublishCarRegistered", "events", "putEvents")]
    usage = ex.usage({}, PRICES)
    assert usage.units.ddb_write_units == 2 and usage.units.events == 2  # one PutEvents, two entries
    # Each event reaches the audit consumer (RecordCarEvent): 2 task Lambdas + 2 consumer invocations.
    assert usage.lambda_requests == 4 and usage.consumer_invocations == 2
    assert usage.integration_calls == 3
    assert ex.express_blocker is None and 50 < ex.express_memory_mb < 64


def test_transient_failures_retried_are_billed_transitions_and_invocations(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(error="TransientInspectionError", first=2)]})
    result, ex = priced(fleet)
    assert result.status == "SUCCEEDED" and len(result.states) == 7
    assert ex.retries == 2 and ex.transitions == 7 + 2
    inspect = [r for r in ex.lambdas if r.function == "InspectCar"]
    assert [r.error for r in inspect] == ["TransientInspectionError", "TransientInspectionError", None]
    assert all(r.billed for r in inspect)  # a function error is an invocation that ran
    assert ex.usage({}, PRICES).lambda_requests == 1 + 3 + 2


def test_the_dlq_path_counts_pass_choice_and_fail_states(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(error="TransientInspectionError", message="link down")]})
    result, ex = priced(fleet)
    assert result.status == "FAILED"
    assert result.states == ["ValidateCar", "PersistCar", "InspectCar", "InspectCarFailed", "RecordFailure", "SendToDLQ",
                             "CarPersisted", "MarkRegistrationFailed", "PublishRegistrationFailed",
                             "RegistrationFailed"]
    entered = types_entered(fleet, result.execution_arn)
    assert entered.count("PassStateEntered") == 1 and entered.count("ChoiceStateEntered") == 1
    assert entered.count("FailStateEntered") == 1
    # 10 states entered (the Fail state included) + 3 retries of InspectCar.
    assert ex.states == 10 and ex.retries == 3 and ex.transitions == 13
    assert sum(1 for r in ex.lambdas if r.function == "InspectCar") == 4
    actions = [(c.service, c.action) for c in ex.integrations]
    assert actions == [("dynamodb", "putItem"), ("dynamodb", "putItem"), ("sqs", "sendMessage"), ("dynamodb", "updateItem"),
                       ("events", "putEvents")]
    assert ex.usage({}, PRICES).units.sqs_requests == 1


def test_a_throttled_invoke_is_a_retry_but_no_lambda_charge(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(throttle=True, first=1)]})
    result, ex = priced(fleet)
    assert result.status == "SUCCEEDED"
    assert ex.transitions == 8
    inspect = [r for r in ex.lambdas if r.function == "InspectCar"]
    assert [(r.billed, r.error) for r in inspect] == [(False, "Lambda.TooManyRequestsException"), (True, None)]
    assert ex.usage({}, PRICES).lambda_requests == 2 + 2


def test_a_timed_out_invocation_is_billed_for_its_timeout(faulty_fleet):
    fleet = faulty_fleet({"InspectCar": [FaultRule(timeout=True, first=1)]})
    result, ex = priced(fleet)
    first = next(r for r in ex.lambdas if r.function == "InspectCar")
    assert first.error == "Sandbox.Timedout" and first.billed
    assert first.billed_ms >= catalog.function("InspectCar").timeout_s * 1000


def test_standard_against_express_for_register(fleet):
    _result, ex = priced(fleet)
    month = ex.usage({}, PRICES).scaled(1_000_000)
    standard = bill(month, PRICES, "standard", free_tier=False)
    express = bill(month, PRICES, "express", free_tier=False)
    with_lambdas = bill(month, PRICES, "standard", free_tier=False, lambdas_for_integrations=True)
    assert standard.by_service()["Step Functions"] == pytest.approx(7 * 1_000_000 * 0.000025)  # $175
    # Express: $1 per million requests + 100 ms (at least) x 64 MB per execution.
    assert express.by_service()["Step Functions"] == pytest.approx(
        1.0 + month.express_gb_seconds / 3600 * 0.06, rel=1e-9)
    assert month.express_gb_seconds >= 1_000_000 * 0.1 * 64 / 1024
    assert express.total < standard.total / 10
    # The other services cost the same either way; Lambdas for the integrations add 3 invocations each.
    for service in ("Lambda", "DynamoDB", "EventBridge", "SQS"):
        assert express.by_service()[service] == pytest.approx(standard.by_service()[service])
    assert with_lambdas.by_service()["Lambda"] > standard.by_service()["Lambda"]
    lambda_requests = next(line for line in with_lambdas.lines if line.service == "Lambda" and line.unit == "requests")
    assert lambda_requests.quantity == month.lambda_requests + 3_000_000


def test_history_without_previous_event_ids_is_read_in_order(fleet):
    """Another engine's history may leave previousEventId out: the tasks are still found."""
    result, ex = priced(fleet)
    events = [{k: v for k, v in e.items() if k != "previousEventId"}
              for e in stepfunctions.history(fleet.sfn, result.execution_arn)]
    again = analyze(events)
    assert (again.transitions, len(again.lambdas), len(again.integrations)) == (7, 2, 3)


def test_callback_workflows_cannot_be_express():
    from workflows.cost.model import express_blocker

    assert express_blocker(catalog.workflow("register").definition()) is None
    assert "StartTrip uses .waitForTaskToken" in express_blocker(catalog.workflow("dispatch").definition())
    assert "RequestSignOff uses .waitForTaskToken" in express_blocker(catalog.workflow("maintenance").definition())
    assert "5 minutes" in express_blocker(catalog.workflow("register").definition(), duration_ms=301_000)


def test_mean_usage():
    a, b = Usage(executions=1, transitions=7), Usage(executions=1, transitions=9)
    assert Usage.mean([a, b]).transitions == 8
