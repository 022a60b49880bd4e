"""Operational failures: list, show, redrive, sweep. The view is the Failures table, so every
reader sees every failure at once; a redrive claims each failure before it starts it, so
concurrent redrives start each once, and one cut off at any step loses and hides nothing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fleet_domain.control.dlq import LEASE_S, NO_SUCH_FAILURE, DeadLetterQueue, detail, redrive_name
from fleet_domain.data.failures import FailureRepository, FailureStatus, failure_id
from workflows.definitions import catalog
from workflows.definitions.catalog import Ref
from workflows.local.cloud import resolve
from workflows.local.faults import FaultRule, TableFaultRule

CARS = [{"vin": vin, "model": "Robotaxi S", "year": 2024, "seats": 4}
        for vin in ("1HGCM82633A004352", "JH4KA7561PC008269", "WVWZZZ1JZXW000001")]
ALWAYS_FAILING = {"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry down")]}


def vins(n: int) -> list[str]:
    return [f"DLXTEST{i:010d}" for i in range(n)]  # 17 characters of the VIN alphabet


@pytest.fixture
def failed_fleet(faulty_fleet):
    """Three registrations that failed operationally (InspectCar never answers)."""
    fleet = faulty_fleet(ALWAYS_FAILING)
    results = [fleet.run("register", car) for car in CARS]
    assert [r.status for r in results] == ["FAILED"] * 3
    fleet.failed = results
    return fleet


def dlq_of(fleet, sqs=None, failures=None, clock=time.time) -> DeadLetterQueue:
    return DeadLetterQueue(sqs or fleet.sqs, resolve(Ref("queue", "Dlq", "url")),
                           failures or FailureRepository(fleet.ddb, catalog.table("Failures").table_name), clock)


def executions(fleet) -> list[dict]:
    arn = fleet.cloud.state_machine_arn("register")
    return fleet.sfn.list_executions(stateMachineArn=arn)["executions"]


def test_list_shows_each_failure_once_and_leaves_it_in_the_queue(failed_fleet):
    dlq = dlq_of(failed_fleet)
    failures = dlq.list()
    assert sorted(f.execution_arn for f in failures) == sorted(r.execution_arn for r in failed_fleet.failed)
    assert {f.failure_id for f in failures} == {failure_id(r.execution_arn) for r in failed_fleet.failed}
    assert {(f.workflow, f.failed_state, f.error, f.status) for f in failures} == {
        ("register", "InspectCar", "TransientInspectionError", FailureStatus.OPEN)}
    assert len(dlq.list()) == 3 and len(failed_fleet.dlq()) == 3  # the queue holds the three messages still

    shown = detail(dlq.show(failures[0].failure_id))
    assert shown["input"] in CARS and "telemetry down" in shown["cause"]
    assert shown["redrive_name"] == redrive_name(failures[0])
    with pytest.raises(KeyError):
        dlq.show("no-such-id")


def test_25_concurrent_listings_all_see_all_30_failures(faulty_fleet):
    fleet = faulty_fleet(ALWAYS_FAILING)
    arns = [fleet.start("register", {"vin": v, "model": "Robotaxi S", "year": 2024, "seats": 4}) for v in vins(30)]
    assert {fleet.cloud.wait(a).get("error") for a in arns} == {"TransientInspectionError"}
    dlq = dlq_of(fleet)
    barrier = threading.Barrier(25)

    def listing(_: int) -> int:
        barrier.wait()
        return len(dlq.list())

    with ThreadPoolExecutor(25) as pool:
        seen = list(pool.map(listing, range(25)))
    assert seen == [30] * 25


def test_dry_run_changes_nothing(failed_fleet):
    dlq = dlq_of(failed_fleet)
    done = dlq.redrive(failed_fleet.sfn, dry_run=True)
    assert len(done.results) == 3 and all(r.dry_run and not r.deleted for r in done.results)
    assert done.remaining == 0
    assert {f.status for f in dlq.list()} == {FailureStatus.OPEN} and len(dlq.list()) == 3
    assert len(executions(failed_fleet)) == 3


def test_redrive_with_faults_off_completes_them_and_twice_starts_nothing_new(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False
    dlq = dlq_of(failed_fleet)

    done = dlq.redrive(failed_fleet.sfn)

    assert len(done.results) == 3 and all(r.started and r.deleted for r in done.results) and done.remaining == 0
    for r in done.results:
        assert failed_fleet.cloud.wait(r.execution_arn)["status"] == "SUCCEEDED"
    assert dlq.list() == [] and failed_fleet.dlq() == []  # rows redriven, messages deleted
    assert {r["status"] for r in failed_fleet.failures()} == {"redriven"}
    # A handled failure expires with the queue's retention; an open one had no TTL.
    assert all(int(r["ttl"]) > time.time() + 13 * 86400 for r in failed_fleet.failures())
    for car in CARS:  # re-registered: REGISTERING v1 -> REGISTRATION_FAILED v2 -> REGISTERING v3 -> AVAILABLE v4
        item = failed_fleet.item("Cars", car_id=f"car-{car['vin']}")
        assert (item["status"], item["version"]) == ("AVAILABLE", 4)

    assert dlq.redrive(failed_fleet.sfn).results == []  # nothing left, nothing started
    assert len(executions(failed_fleet)) == 6


def test_two_concurrent_redrives_of_everything_start_each_failure_exactly_once(faulty_fleet):
    fleet = faulty_fleet(ALWAYS_FAILING)
    arns = [fleet.start("register", {"vin": v, "model": "Robotaxi S", "year": 2024, "seats": 4}) for v in vins(20)]
    assert {fleet.cloud.wait(a).get("error") for a in arns} == {"TransientInspectionError"}
    fleet.cloud.runtime.fault_hook.enabled = False
    barrier = threading.Barrier(2)

    def redrive_all(_: int):
        dlq = dlq_of(fleet)
        barrier.wait()
        return dlq.redrive(fleet.sfn)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(redrive_all, range(2))
    ids = [r.id for r in first.results + second.results]
    # Each failure claimed by one of the two, which started it; the other skipped it.
    assert sorted(ids) == sorted(failure_id(a) for a in arns)
    assert all(r.started and not r.error for r in first.results + second.results)
    assert first.remaining == second.remaining == 0
    assert len(executions(fleet)) == 40
    assert dlq_of(fleet).list() == []


def test_a_redrive_cut_off_after_its_claim_hides_nothing_and_the_lease_lets_the_next_one_start_it(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False
    dlq = dlq_of(failed_fleet)
    target = dlq.list()[0]
    # The function's environment ends right after the claim (its 29 s ran out): nothing runs after it.
    assert dlq.failures.claim(target.failure_id, "cut-off", time.time(), LEASE_S)

    listed = {f.failure_id: f for f in dlq.list()}
    assert len(listed) == 3 and listed[target.failure_id].status is FailureStatus.REDRIVING  # still shown
    assert len(failed_fleet.dlq()) == 3  # and its message still in the queue

    # While the lease runs, another redrive of everything leaves it to its holder.
    done = dlq.redrive(failed_fleet.sfn)
    assert {r.id for r in done.results} == set(listed) - {target.failure_id}
    [refused] = dlq.redrive(failed_fleet.sfn, [target.failure_id]).results
    assert refused.error and not refused.started
    assert [f.failure_id for f in dlq.list()] == [target.failure_id]

    # Once it ends, the next redrive claims and starts it, once.
    later = dlq_of(failed_fleet, clock=lambda: time.time() + LEASE_S + 1)
    [result] = later.redrive(failed_fleet.sfn).results
    assert result.id == target.failure_id and result.started and result.deleted
    assert later.list() == [] and failed_fleet.dlq() == []
    assert len(executions(failed_fleet)) == 6


class CrashOnMark(FailureRepository):
    """The Failures table, except that the process 'dies' when it marks a failure redriven:
    after the new execution started, before anything records it."""

    def mark_redriven(self, *args, **kwargs):
        raise SystemExit("crash between StartExecution and marking the failure redriven")


def test_a_crash_between_start_and_mark_loses_nothing_and_starts_nothing_twice(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False
    crashing = dlq_of(failed_fleet, failures=CrashOnMark(failed_fleet.ddb, catalog.table("Failures").table_name))
    first = crashing.list()[0]

    with pytest.raises(SystemExit):
        crashing.redrive(failed_fleet.sfn, [first.failure_id])

    assert first.failure_id in [f.failure_id for f in dlq_of(failed_fleet).list()]  # still listed
    later = dlq_of(failed_fleet, clock=lambda: time.time() + LEASE_S + 1)
    [again] = later.redrive(failed_fleet.sfn, [first.failure_id]).results
    # Same derived name, so Step Functions hands back the execution the crashed run started.
    assert again.deleted and again.execution_arn.endswith(":" + redrive_name(first))
    assert first.failure_id not in [f.failure_id for f in later.list()]
    assert len(executions(failed_fleet)) == 4


class StartFails:
    """Step Functions refusing every start (a throttle that outlasts the SDK's retries)."""

    def __init__(self, sfn):
        self._sfn = sfn

    def start_execution(self, **kwargs):
        raise RuntimeError("ThrottlingException: rate exceeded")

    def __getattr__(self, name):
        return getattr(self._sfn, name)


def test_a_start_that_fails_gives_the_claim_back(failed_fleet):
    dlq = dlq_of(failed_fleet)
    first = dlq.list()[0]
    with pytest.raises(RuntimeError):
        dlq.redrive(StartFails(failed_fleet.sfn), [first.failure_id])
    assert dlq.show(first.failure_id).status is FailureStatus.OPEN  # claimable at once, no lease to wait out


def test_a_spent_budget_starts_nothing_and_counts_what_remains(failed_fleet):
    dlq = dlq_of(failed_fleet)
    done = dlq.redrive(failed_fleet.sfn, budget_s=0)
    assert done.results == [] and done.remaining == 3
    assert {f.status for f in dlq.list()} == {FailureStatus.OPEN} and len(executions(failed_fleet)) == 3


def test_a_redriven_execution_that_fails_again_is_a_failure_again(failed_fleet):
    dlq = dlq_of(failed_fleet)
    first = dlq.list()[0]
    [result] = dlq.redrive(failed_fleet.sfn, [first.failure_id]).results  # faults still on
    assert failed_fleet.cloud.wait(result.execution_arn)["status"] == "FAILED"
    failures = {f.execution_arn: f for f in dlq.list()}
    assert first.execution_arn not in failures and result.execution_arn in failures
    assert failures[result.execution_arn].original_input() == first.original_input()
    assert len(failures) == 3
    assert sorted(m["execution_arn"] for m in failed_fleet.dlq()) == sorted(failures)


def test_unknown_ids_are_reported_not_guessed(failed_fleet):
    done = dlq_of(failed_fleet).redrive(failed_fleet.sfn, ["no-such-id"])
    [result] = done.results
    assert result.error == NO_SUCH_FAILURE and not result.deleted
    assert len(dlq_of(failed_fleet).list()) == 3


def test_a_failure_whose_record_failed_still_reaches_the_queue_and_the_sweep_records_it(faulty_fleet):
    fleet = faulty_fleet(ALWAYS_FAILING, tables={"Failures": [TableFaultRule(throughput_exceeded=True)]})
    result = fleet.run("register", CARS[0])
    assert result.status == "FAILED" and "RecordFailure" in result.states
    fleet.cloud.runtime.fault_hook.enabled = False
    dlq = dlq_of(fleet)
    assert dlq.list() == []  # RecordFailure gave up: only the queue has it

    swept = dlq.sweep()
    assert (swept.recorded, swept.deleted, swept.kept) == (1, 0, 1)
    [failure] = dlq.list()
    assert (failure.failure_id, failure.execution_arn, failure.failed_state) == (
        failure_id(result.execution_arn), result.execution_arn, "InspectCar")
    assert failure.original_input() == CARS[0]
    assert dlq.sweep().recorded == 0  # recorded once

    [redriven] = dlq.redrive(fleet.sfn).results
    assert redriven.started and redriven.deleted and fleet.dlq() == []


def test_the_sweep_deletes_messages_of_redriven_failures(failed_fleet):
    failed_fleet.cloud.runtime.fault_hook.enabled = False

    class KeepsMessages:  # the best-effort delete after the redrive finds nothing (the messages are held)
        def __init__(self, sqs):
            self._sqs = sqs

        def receive_message(self, **kwargs):
            return {"Messages": []}

        def __getattr__(self, name):
            return getattr(self._sqs, name)

    done = dlq_of(failed_fleet, sqs=KeepsMessages(failed_fleet.sqs)).redrive(failed_fleet.sfn)
    assert len(done.results) == 3 and all(r.started and not r.deleted for r in done.results)
    assert len(failed_fleet.dlq()) == 3 and dlq_of(failed_fleet).list() == []
    swept = dlq_of(failed_fleet).sweep()
    assert (swept.deleted, swept.recorded, swept.kept) == (3, 0, 0)
    assert failed_fleet.dlq() == []
