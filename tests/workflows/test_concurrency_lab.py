"""The concurrency lab (`fleet lab concurrency`): Lambda's concurrency rules on the local runtime,
on a stepped virtual clock (the times below are the lab's virtual seconds)."""

from __future__ import annotations

from workflows.lab.concurrency import run_concurrency, run_retries


def test_reserved_and_provisioned_concurrency_sync_and_async():
    experiment = run_concurrency(reserved=3, provisioned=2, calls=4)
    sync = {c.n: c for c in experiment.calls if c.kind == "sync"}
    asynchronous = {c.n: c for c in experiment.calls if c.kind == "async"}
    # Synchronous: two calls start warm on the provisioned environments, a third cold, the fourth
    # finds the function at its reserved concurrency: 429, not run.
    assert [sync[n].status for n in (1, 2, 3, 4)] == ["200", "200", "200", "429"]
    assert [sync[n].start for n in (1, 2, 3)] == ["provisioned environment"] * 2 + ["cold start"]
    assert sync[4].started is None
    assert all(round(sync[n].started) == n - 1 and round(sync[n].ended) == n + 19 for n in (1, 2, 3))
    # Asynchronous: accepted (202) and none throttled; the fourth waits until a run ends at 20 s.
    assert {c.status for c in asynchronous.values()} == {"202"}
    waited = [c for c in asynchronous.values() if c.started - c.at >= 1]
    assert len(waited) == 1 and round(waited[0].started) == 20
    assert max(c.ended for c in asynchronous.values()) < 45


def test_reserved_one_runs_the_asynchronous_events_one_at_a_time():
    experiment = run_concurrency(reserved=1, provisioned=1, calls=3)
    runs = sorted((c.started, c.ended) for c in experiment.calls if c.kind == "async")
    assert len(runs) == 3
    assert all(round(later[0]) >= round(earlier[1]) for earlier, later in zip(runs, runs[1:], strict=False))
    assert [c.status for c in experiment.calls if c.kind == "sync"] == ["200", "429", "429"]


def test_asynchronous_retries_at_about_one_and_three_minutes_then_the_destination():
    lines, _end = run_retries()
    times = [int(line.split("s", 1)[0].removeprefix("t=").strip()) for line in lines]
    assert times == [0, 60, 180, 180]
    assert "on-failure destination: RetriesExhausted, 3 attempts" in lines[-1]
