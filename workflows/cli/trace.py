"""`fleet trace <execution-arn-or-name>`: what an execution did, state by state.

    fleet trace car-1HGCM82633A004352-3f2a          # a name: found among the fleet's state machines
    fleet trace arn:aws:states:...:execution:...     # or the ARN
    fleet trace NAME --html trace.html               # plus the graph view, one self-contained file
    fleet trace NAME --target aws [--stack CarFleet] # on AWS (default credentials), in the stack's machines
    fleet trace NAME --target sfn-local              # on Step Functions Local

The terminal view lists the states in order with their start, duration, retries (each with its
error), caught errors and waits for a task token, then the final status and output or error and
cause. Exit code: 0 when the execution succeeded (or is still running), 1 when it ended otherwise,
2 when it cannot be found or read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from workflows.cli.targeting import add_target_options, target_from
from workflows.targets import Target

_STATUS_STYLE = {"succeeded": "green", "failed": "red", "caught": "yellow", "running": "cyan", "aborted": "magenta"}


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("trace", help="show what an execution did, state by state (and as a graph with --html)")
    p.add_argument("execution", help="execution ARN, or an execution name of one of the fleet's state machines")
    add_target_options(p)
    p.add_argument("--html", metavar="FILE", help="also write the graph view: one self-contained HTML file")
    p.set_defaults(handler=cmd_trace)
    return p


def execution_target(args: argparse.Namespace) -> tuple[Target, str]:
    """The target the options select and the execution's ARN there, from its ARN or its name
    (looked for among the fleet's state machines). An execution ARN on AWS names its region."""
    from workflows.cli.errors import UsageError
    from workflows.targets import AwsTarget
    from workflows.trace.model import resolve_execution

    target = target_from(args)
    ref = args.execution
    if ref.startswith("arn:") and isinstance(target, AwsTarget):
        target = args.target_in_use = target.in_region(ref.split(":")[3] if ref.count(":") >= 3 else None)
    try:
        machines = [] if ref.startswith("arn:") else target.fleet_state_machines()
        return target, resolve_execution(target.client("stepfunctions"), ref, machines)
    except LookupError as exc:
        raise UsageError(f"{exc} at {target.where}") from None


def cmd_trace(args: argparse.Namespace) -> int:
    from workflows.cli.errors import UsageError
    from workflows.trace import html
    from workflows.trace.model import load_trace

    target, arn = execution_target(args)
    trace = load_trace(target.client("stepfunctions"), arn)
    print_trace(trace)
    if args.html:
        try:
            page = html.render_page(trace)
        except html.LayoutLibraryMissing as exc:
            raise UsageError(str(exc)) from None
        path = Path(args.html)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        from workflows.cli import render

        render.console.print(f"graph      {path}", markup=False)
    return 0 if trace.status in ("SUCCEEDED", "RUNNING") else 1


# --- the terminal view ---------------------------------------------------------------------------


def print_trace(trace: Any, console: Any = None) -> None:
    from workflows.cli import render
    from workflows.trace.html import fmt_ms

    console = console or render.console
    status_bits = [f"started {_when(trace.started)}"]
    status_bits.append(fmt_ms(trace.duration_ms) if trace.duration_ms is not None else "still running")
    retries = sum(v.retries for v in trace.visits)
    status_bits.append(f"{len(trace.visits)} states" + (f", {_count(retries, 'retry', 'retries')}" if retries else ""))
    console.print(Text.assemble(("execution  ", ""), (trace.name, "bold"), f"  ({trace.state_machine_name})"))
    console.print(f"arn        {trace.execution_arn}", markup=False)
    console.print(Text.assemble("status     ", (trace.status, render._STATUS_STYLE.get(trace.status, "white")),
                                "  " + " · ".join(status_bits)))
    console.print()
    if console.is_terminal:
        console.print(states_table(trace))
    else:  # plain text for logs and pipes: no padding after the last column
        with console.capture() as captured:
            console.print(states_table(trace))
        for line in captured.get().splitlines():
            console.print(line.rstrip(), markup=False, highlight=False)
    console.print()
    if trace.status == "SUCCEEDED":
        console.print(f"output     {json.dumps(trace.output, default=str)}", markup=False)
    elif trace.error or trace.cause:
        console.print(Text.assemble("error      ", (str(trace.error or ""), "red")))
        console.print(f"cause      {render.short_cause(trace.cause)}", markup=False)
    elif trace.status == "RUNNING":
        waiting = [v for v in trace.visits if v.waiting_for_token]
        if waiting:
            console.print(f"waiting    for the task token of {', '.join(v.name for v in waiting)}", markup=False)


def states_table(trace: Any) -> Table:
    from workflows.trace.html import fmt_ms

    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    table.add_column("start", justify="right", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("result", overflow="fold")
    for v in ordered(trace.visits):
        indent = "  " * v.depth
        label = Text(indent)
        if v.iteration is not None:
            label.append(f"[{v.iteration}] ", style="dim")
        elif v.parent is not None and v.parent.attempts > 1 and v.parent_attempt:
            label.append(f"(run {v.parent_attempt}) ", style="dim")
        label.append(v.name, style="bold" if v.depth == 0 else "")
        label.append(f" {v.type}", style="dim")
        table.add_row(_offset(trace, v.entered), fmt_ms(v.duration_ms) if v.duration_ms is not None else "",
                      label, result_text(v))
        failed_tries = [a for a in v.tries if a.failed]
        if v.retries or (failed_tries and len(v.tries) > 1):
            for a in v.tries:
                what = (Text(error_line(a.error, a.cause), style="red") if a.failed
                        else Text("succeeded", style="green"))
                table.add_row(_offset(trace, a.scheduled or a.started), "",
                              Text(f"{indent}  attempt {a.number}", style="dim"), what)
        if v.waited_for_token:
            wait = v.token_wait_ms
            if v.waiting_for_token:
                answer = Text("waiting for SendTaskSuccess / SendTaskFailure", style="cyan")
            else:
                answer = Text("came back" + (f" with {v.tries[-1].error}" if v.tries[-1].failed else ""), style="dim")
            table.add_row("", fmt_ms(wait) if wait is not None else "", Text(f"{indent}  task token", style="dim"),
                          answer)
    return table


def result_text(v: Any) -> Text:

    style = _STATUS_STYLE.get(v.status, "")
    text = Text(v.status, style=style)
    if v.status == "caught":
        text.append(f" {v.error}", style=style)
        if v.successor is not None:
            text.append(f" -> {v.successor.name}")
    elif v.status == "failed" and v.error:
        text.append(f" {v.error}", style=style)
        if v.cause and v.type != "Fail":
            text.append(error_line(v.error, v.cause)[len(v.error):])
    if v.retries:
        text.append(f" after {_count(v.retries, 'retry', 'retries')}", style="magenta")
    if v.iterations is not None:
        text.append(f" ({v.iterations} items)", style="dim")
    if v.waiting_for_token:
        text.append(" (waiting for its task token)", style="cyan")
    return text


def error_line(error: str | None, cause: str | None) -> str:
    """`TransientInspectionError: telemetry link timed out` (a Lambda cause names its type once)."""
    from workflows.cli import render

    message = render.short_cause(cause)
    if error and message.startswith(f"{error}: "):
        message = message[len(error) + 2:]
    return f"{error or ''}: {message}" if message else str(error or "")


def ordered(visits: list[Any]) -> list[Any]:
    """Visits as a tree: each Parallel / Map visit followed by its branches' and iterations' states."""
    children: dict[int | None, list[Any]] = {}
    for v in visits:
        children.setdefault(id(v.parent) if v.parent else None, []).append(v)
    out: list[Any] = []

    def emit(parent_key: int | None) -> None:
        kids = children.get(parent_key, [])
        # Branches and iterations in index order; within one, the order they ran.
        kids = sorted(kids, key=lambda v: (v.parent_attempt or 0, v.branch if v.branch is not None else -1,
                                           v.iteration if v.iteration is not None else -1))
        for v in kids:
            out.append(v)
            emit(id(v))

    emit(None)
    return out


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _offset(trace: Any, when: Any) -> str:
    from workflows.trace.html import fmt_ms

    value = trace.offset_ms(when)
    return "" if value is None else f"+{fmt_ms(value)}"


def _when(value: Any) -> str:
    from workflows.trace.html import _when as when

    return when(value) or "?"
