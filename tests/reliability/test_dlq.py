"""DLQ tooling: list, show, redrive; nothing lost at any step, including a crash between the
start of the new execution and the delete of the message."""

from __future__ import annotations

import pytest

from fleet_domain.control.dlq import DeadLetterQueue, redrive_name
from workflows.definitions.catalog import Ref
from workflows.local.cloud import resolve
from workflows.local.faults import FaultRule

CARS = [{"vin": vin, "model": "Robotaxi S", "year": 2024, "seats": 4}
        for vin in ("1HGCM82633A004352", "JH4KA7561PC008269", "WVWZZZ1JZXW000001")]


@pytest.fixture
def failed_fleet(faulty_fleet):
    """Three registrations that failed operationally (InspectCar never answers)."""
    fleet = faulty_fleet({"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry down")]})
    results = [fleet.run("register", car) for car in CARS]
    assert [r.status for r in results] == ["FAILED"] * 3
    fleet.failed = results
    return fleet


def dlq_of(fleet) -> DeadLetterQueue:
    return DeadLetterQueue(fleet.sqs, resolve(Ref("queue", "Dlq", "url")))


def test_list_shows_each_failure_once_and_leaves_it_in_the_queue(failed_fleet):
    dlq = dlq_of(failed_fleet)
    letters = dlq.list()
    assert sorted(x.execution_arn for x in letters) == sorted(r.execution_arn for r in failed_fleet.failed)
    assert {(x.workflow, x.body["failed_state"], x.body["error"]) for x in letters} == {
        ("register", "InspectCar", "TransientInspectionError")}
    assert len(dlq.list()) == 3  # listing consumed nothing

    shown = dlq.show(letters[0].message_id).detail()
    assert shown["input"] in CARS and "telemetry down" in shown["cause"]
    assert shown["redrive_name"] == redrive_name(letters[0])
    with pytest.raises(KeyError):
        dlq.show("no-such-id")


def test_dry_run_changes_nothing(failed_fleet):
    dlq = dlq_of(failed_fleet)
    results = dlq.redrive(failed_fleet.sfn, dry_run=True).results
    assert len(results) == 3 and all(r.dry_run and not r.deleted for r in results)
    assert len(dlq.list()) == 3
    arn = failed_fleet.cloud.state_machine_arn("register")
    assert len(failed_fleet.sfn.list_executions(stateMachineArn=arn)["executions"]) == 3


def test_redrive_with_faults_off_completes_them_and_twice_starts_nothing_new(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False
    dlq = dlq_of(failed_fleet)

    results = dlq.redrive(failed_fleet.sfn).results

    assert len(results) == 3 and all(r.started and r.deleted for r in results)
    for r in results:
        assert failed_fleet.cloud.wait(r.execution_arn)["status"] == "SUCCEEDED"
    assert dlq.list() == []
    for car in CARS:  # re-registered: REGISTERING v1 -> REGISTRATION_FAILED v2 -> REGISTERING v3 -> AVAILABLE v4
        item = failed_fleet.item("Cars", car_id=f"car-{car['vin']}")
        assert (item["status"], item["version"]) == ("AVAILABLE", 4)

    assert dlq.redrive(failed_fleet.sfn).results == []  # nothing left, nothing started
    arn = failed_fleet.cloud.state_machine_arn("register")
    assert len(failed_fleet.sfn.list_executions(stateMachineArn=arn)["executions"]) == 6


def test_a_redrive_out_of_time_starts_nothing_more_and_leaves_the_rest_visible(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False
    dlq = dlq_of(failed_fleet)

    spent = dlq.redrive(failed_fleet.sfn, budget_s=0)  # the caller's time is already up

    assert (spent.results, spent.remaining) == ([], 3)
    assert len(dlq.list()) == 3  # released at once, not held out of sight
    arn = failed_fleet.cloud.state_machine_arn("register")
    assert len(failed_fleet.sfn.list_executions(stateMachineArn=arn)["executions"]) == 3
    rest = dlq.redrive(failed_fleet.sfn, budget_s=60)
    assert (len(rest.results), rest.remaining) == (3, 0) and all(r.started for r in rest.results)


class CrashOnDelete:
    """The SQS client, except that the process 'dies' at its first DeleteMessage."""

    def __init__(self, sqs):
        self._sqs = sqs
        self.crashed = False

    def delete_message(self, **kwargs):
        if not self.crashed:
            self.crashed = True
            raise SystemExit("crash between StartExecution and DeleteMessage")
        return self._sqs.delete_message(**kwargs)

    def __getattr__(self, name):
        return getattr(self._sqs, name)


def test_a_crash_between_start_and_delete_loses_nothing_and_starts_nothing_twice(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False
    url = resolve(Ref("queue", "Dlq", "url"))
    crashing = DeadLetterQueue(CrashOnDelete(failed_fleet.sqs), url)
    letter = crashing.list()[0]
    first_id = letter.message_id

    with pytest.raises(SystemExit):
        crashing.redrive(failed_fleet.sfn, [first_id])

    dlq = dlq_of(failed_fleet)
    assert first_id in [x.message_id for x in dlq.list()]  # the message is still there
    [again] = dlq.redrive(failed_fleet.sfn, [first_id]).results
    # Same derived name, so Step Functions hands back the execution the crashed run started.
    assert again.deleted and again.execution_arn.endswith(":" + redrive_name(letter))
    assert first_id not in [x.message_id for x in dlq.list()]
    arn = failed_fleet.cloud.state_machine_arn("register")
    assert len(failed_fleet.sfn.list_executions(stateMachineArn=arn)["executions"]) == 4


def test_a_redriven_execution_that_fails_again_lands_in_the_dlq_again(failed_fleet):
    dlq = dlq_of(failed_fleet)
    first = dlq.list()[0]
    [result] = dlq.redrive(failed_fleet.sfn, [first.message_id]).results  # faults still on
    assert failed_fleet.cloud.wait(result.execution_arn)["status"] == "FAILED"
    letters = {x.execution_arn: x for x in dlq.list()}
    assert first.execution_arn not in letters and result.execution_arn in letters
    assert letters[result.execution_arn].body["input"] == first.body["input"]
    assert len(letters) == 3, [
        (x.execution_arn.rsplit(":", 1)[-1], x.body.get("failed_state"), x.body.get("error")) for x in letters.values()]


def test_unknown_ids_are_reported_not_guessed(failed_fleet):
    [result] = dlq_of(failed_fleet).redrive(failed_fleet.sfn, ["no-such-id"]).results
    assert result.error == "no such message in the DLQ" and not result.deleted
    assert len(dlq_of(failed_fleet).list()) == 3
