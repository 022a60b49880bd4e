"""`fleet trace <execution-arn-or-name>`: what an execution did, state by state.

    fleet trace car-1HGCM82633A004352-3f2a          # a name: found among the fleet's state machines
    fleet trace arn:aws:states:...:execution:...     # or the ARN
    fleet trace NAME --html trace.html               # plus the graph view, one self-contained file
    fleet trace NAME --target aws [--stack CarFleet] # on AWS (default credentials), in the stack's machines
    fleet trace NAME --target sfn-local              # on Step Functions Local

The terminal view lists the states in order with their start, duration, retries (each with its
error), caught errors and waits for a task token, then the final status and output or error and
cause. Exit code: 0 when the execution succeeded, 1 when it ended otherwise, 5 while it runs (the
table in README.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from workflows.cli import render
from workflows.cli.errors import Exit
from workflows.cli.targeting import add_target_options, execution_from

_STATUS_STYLE = {"succeeded": "green", "failed": "red", "caught": "yellow", "running": "cyan", "aborted": "magenta"}


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("trace", help="show what an execution did, state by state (and as a graph with --html)")
    p.add_argument("execution", help="execution ARN, name, or the start of a name (of one of the fleet's state machines)")
    add_target_options(p)
    p.add_argument("--html", metavar="FILE", help="also write the graph view: one self-contained HTML file")
    render.add_output_option(p)
    p.set_defaults(handler=cmd_trace)
    return p


def cmd_trace(args: argparse.Namespace) -> int:
    from workflows.cli.errors import UsageError
    from workflows.trace import html
    from workflows.trace.model import load_trace

    target, arn = execution_from(args, args.execution)
    trace = load_trace(target.client("stepfunctions"), arn)
    if render.wants_json(args):
        render.print_json(trace.as_dict())
    else:
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
        out = render.notes if render.wants_json(args) else render.console
        out.print(f"graph      {path}", markup=False)
    return Exit.OK if trace.status == "SUCCEEDED" else Exit.WAITING if trace.running else Exit.NOT_SUCCEEDED


# --- the terminal view ---------------------------------------------------------------------------


def print_trace(trace: Any, console: Any = None) -> None:
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
        from workflows.cli.follow import resume_command
        from workflows.trace.tokens import token_waits

        for wait in token_waits(trace):
            console.print(f"waiting    {wait.state} waits for its task token", markup=False)
            console.print(f"resume     {resume_command(wait, trace.name)}", markup=False)


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
