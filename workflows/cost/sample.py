"""Where the cost model's figures come from: a representative sample of each workflow run on an
in-process local cloud (virtual clock), or one execution's history at an endpoint.

    sample = run_sample(["register"], {"register": 20})
    sample.executions["register"]     # [cost.ExecutionUsage], one per execution, from its history
    sample.profiles                   # what each Lambda does inside, measured (cost_meter.Meter)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from workflows.cost.model import ExecutionUsage, FunctionProfile, analyze
from workflows.definitions import catalog
from workflows.targets import stepfunctions

#: Executions of each workflow in the default sample (after one warm-up run each, not priced).
DEFAULT_COUNTS = {"register": 10, "dispatch": 5, "maintenance": 3}

SAMPLE_DESCRIPTION = {
    "register": "a valid car registered (the happy path)",
    "dispatch": "a ride dispatched to the nearest car, its trip completed",
    "maintenance": "a car maintained, signed off, road-tested, back in service",
}


@dataclass
class Sample:
    executions: dict[str, list[ExecutionUsage]]
    profiles: dict[str, FunctionProfile]
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    source: str = "sample"


def run_sample(workflows: Iterable[str] | None = None, counts: dict[str, int] | None = None) -> Sample:
    """Run each workflow's scenario on a fresh in-process local cloud and analyse the histories."""
    for key, value in {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
                       "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
        os.environ.setdefault(key, value)
    from workflows.cost.meter import Meter
    from workflows.demo.scenarios import Scenarios
    from workflows.local.cloud import LocalCloud

    names = [catalog.workflow(w).workflow for w in (workflows or [sm.workflow for sm in catalog.STATE_MACHINES])]
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    with LocalCloud(virtual_time=True) as cloud, Meter(cloud) as meter:
        runs = Scenarios(cloud, prefix="SMPLCAR")
        for name in names:  # warm-up: handlers imported, first calls made; not priced
            runs.run(name)
        meter.settle()
        meter.reset()
        arns = {name: [runs.run(name) for _ in range(max(1, counts.get(name, 1)))] for name in names}
        meter.settle()
        sfn = cloud.client("stepfunctions")
        executions = {name: [load_execution(sfn, arn) for arn in arns[name]] for name in names}
        return Sample(executions, meter.profiles(), meter.calls())


def load_execution(sfn: Any, execution_arn: str) -> ExecutionUsage:
    """One execution, read with the public APIs (DescribeExecution, DescribeStateMachine,
    GetExecutionHistory), so it works against the local cloud, `fleet up` or AWS."""
    desc = sfn.describe_execution(executionArn=execution_arn)
    if desc["status"] == "RUNNING":
        raise ValueError(f"execution {execution_arn} is still RUNNING: price it once it has ended")
    machine = sfn.describe_state_machine(stateMachineArn=desc["stateMachineArn"])
    events = stepfunctions.history(sfn, execution_arn)
    return analyze(events, machine["definition"], workflow=workflow_of(machine["name"]),
                   execution_arn=execution_arn, status=desc["status"])


def workflow_of(state_machine_name: str) -> str:
    try:
        return catalog.workflow(state_machine_name).workflow
    except KeyError:
        return state_machine_name
