"""Following an execution from the command line until it ends, waits for a task token, or the
time runs out: what `fleet run`, `fleet trip complete --wait` and `fleet maintenance sign-off
--wait` share. On a terminal the current state is shown as it runs (on stderr)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from workflows.cli import render
from workflows.cli.errors import Exit
from workflows.targets import stepfunctions
from workflows.trace.model import ExecutionTrace
from workflows.trace.tokens import TokenWait, token_waits

HISTORY_EVERY_S = 0.25  # how often the history is read for progress and token waits

# The command that resumes a waiting state, for the states whose wait the fleet's own commands
# answer (the fields come from what the task was handed); any other wait: `fleet task success`.
RESUME_COMMANDS = {
    "StartTrip": "fleet trip complete {ride_id} [--odometer-km N] [--battery-pct N]",
    "RequestSignOff": "fleet maintenance sign-off {job_id} --passed|--failed [--notes TEXT]",
}


@dataclass
class Followed:
    result: stepfunctions.ExecutionResult
    waits: list[TokenWait] = field(default_factory=list)
    timed_out: bool = False

    @property
    def exit_code(self) -> Exit:
        if self.result.status == "SUCCEEDED":
            return Exit.OK
        if self.result.status == "RUNNING":
            return Exit.WAITING
        return Exit.NOT_SUCCEEDED


def follow(sfn: Any, execution_arn: str, timeout_s: float, *, stop_at_token: bool = True) -> Followed:
    """Poll the execution until it ends, or (with stop_at_token) waits for a task token, or timeout_s passes."""
    deadline = time.monotonic() + timeout_s
    definition: Any = None
    next_history = 0.0
    delay = 0.002
    with _Progress() as progress:
        while True:
            desc = sfn.describe_execution(executionArn=execution_arn)
            running = desc["status"] == "RUNNING"
            now = time.monotonic()
            if running and now >= next_history:
                next_history = now + HISTORY_EVERY_S
                if definition is None:
                    definition = sfn.describe_state_machine(stateMachineArn=desc["stateMachineArn"]).get("definition")
                trace = ExecutionTrace.build(desc, stepfunctions.history(sfn, execution_arn), definition)
                progress.show(trace)
                waits = token_waits(trace)
                if stop_at_token and waits:
                    return Followed(stepfunctions.describe(sfn, execution_arn, desc), waits)
            if not running:
                return Followed(stepfunctions.describe(sfn, execution_arn, desc))
            if now > deadline:
                return Followed(stepfunctions.describe(sfn, execution_arn, desc), timed_out=True)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def resume_command(wait: TokenWait, execution_name: str) -> str:
    template = RESUME_COMMANDS.get(wait.state)
    payload = wait.parameters.get("Payload") if isinstance(wait.parameters, dict) else None
    if template and isinstance(payload, dict):
        try:
            return template.format(**payload)
        except (KeyError, IndexError, ValueError):
            pass
    return f"fleet task success {execution_name} --state {wait.state} --task-output '{{...}}'"


def report(followed: Followed, timeout_s: float, header: bool = True) -> None:
    """What the execution did, and, while it runs, why the command returned and what to do next
    (without the ARN line when it was printed already)."""
    result = followed.result
    render.execution(result, header=header)
    name = result.execution_arn.rsplit(":", 1)[-1]
    for wait in followed.waits:
        render.console.print(f"waiting    {wait.state} waits for its task token", markup=False)
        render.console.print(f"resume     {resume_command(wait, name)}", markup=False)
    if followed.timed_out:
        render.console.print(f"waiting    still {result.status} after {timeout_s:g} s: follow it with "
                             f"`fleet trace {name}`", markup=False)


def report_data(followed: Followed) -> dict[str, Any]:
    data = render.execution_data(followed.result)
    name = data["name"]
    if followed.waits:
        data["waiting_for_task_token"] = [
            {"state": w.state, "since": w.since, "resume": resume_command(w, name)} for w in followed.waits]
    if followed.timed_out:
        data["timed_out"] = True
    return data


class _Progress:
    """The state an execution is in, on one line of a terminal's stderr; nothing when not a terminal."""

    def __init__(self) -> None:
        self.status: Any = None

    def __enter__(self) -> _Progress:
        if render.notes.is_terminal:
            self.status = render.notes.status("starting")
            self.status.start()
        return self

    def show(self, trace: ExecutionTrace) -> None:
        if self.status is None or not trace.visits:
            return
        current = trace.visits[-1]
        detail = f" (attempt {current.attempts})" if current.attempts > 1 else ""
        self.status.update(f"{trace.status.lower()}  {current.name}{detail}  ·  {len(trace.visits)} states")

    def __exit__(self, *_exc: object) -> None:
        if self.status is not None:
            self.status.stop()
