"""`fleet trace <execution-arn-or-name>`: what an execution did, state by state.

    fleet trace car-1HGCM82633A004352-3f2a          # a name: found among the fleet's state machines
    fleet trace arn:aws:states:...:execution:...     # or the ARN
    fleet trace NAME --html trace.html               # plus the graph view, one self-contained file
    fleet trace NAME --target aws                    # on AWS, with the default boto3 credentials
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

TARGETS = ("local", "sfn-local", "aws")
_STATUS_STYLE = {"succeeded": "green", "failed": "red", "caught": "yellow", "running": "cyan", "aborted": "magenta"}


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("trace", help="show what an execution did, state by state (and as a graph with --html)")
    p.add_argument("execution", help="execution ARN, or an execution name of one of the fleet's state machines")
    p.add_argument("--endpoint-url", help="the endpoint to read from (local default $FLEET_ENDPOINT_URL or "
                                          "http://127.0.0.1:4566; sfn-local default $SFN_LOCAL_ENDPOINT or http://localhost:8083)")
    p.add_argument("--target", choices=TARGETS, default="local",
                   help="local: the local cloud (default); sfn-local: Step Functions Local; "
                        "aws: AWS with the default boto3 credentials and region")
    p.add_argument("--html", metavar="FILE", help="also write the graph view: one self-contained HTML file")
    p.set_defaults(handler=cmd_trace)
    return p


def sfn_for(args: argparse.Namespace) -> tuple[Any, str]:
    """The Step Functions client the arguments ask for, and a phrase naming where it points."""
    from workflows import client
    from workflows.cli import UsageError

    if args.target == "aws":
        if args.endpoint_url:
            raise UsageError("--target aws reads from AWS itself; it does not combine with --endpoint-url")
        return client.sfn_client(None), "AWS"
    if args.target == "sfn-local":
        from workflows.commands_sfn_local import endpoint_url

        endpoint = endpoint_url(args.endpoint_url)
    else:
        endpoint = client.endpoint_url(args.endpoint_url)
    return client.sfn_client(endpoint), endpoint


def cmd_trace(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    from workflows import catalog, trace_html
    from workflows.cli import UsageError
    from workflows.trace import load_trace, resolve_execution

    try:
        sfn, where = sfn_for(args)
    except BotoCoreError as exc:  # e.g. no region configured for --target aws
        raise UsageError(f"cannot make a Step Functions client: {exc}") from None
    try:
        arn = resolve_execution(sfn, args.execution, [sm.name for sm in catalog.STATE_MACHINES])
        trace = load_trace(sfn, arn)
    except EndpointConnectionError:
        raise UsageError(f"nothing answers at {where}: start the local cloud with `fleet up`, or pass --endpoint-url") from None
    except NoCredentialsError:
        raise UsageError("no AWS credentials found: configure them as for the AWS CLI (profile, environment, SSO)") from None
    except LookupError as exc:
        raise UsageError(f"{exc} at {where}") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UsageError(f"cannot read {args.execution} at {where}: {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as exc:
        raise UsageError(f"cannot read {args.execution} at {where}: {exc}") from None

    print_trace(trace)
    if args.html:
        try:
            page = trace_html.render_page(trace)
        except trace_html.LayoutLibraryMissing as exc:
            raise UsageError(str(exc)) from None
        path = Path(args.html)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        from workflows import render

        render.console.print(f"graph      {path}", markup=False)
    return 0 if trace.status in ("SUCCEEDED", "RUNNING") else 1


# --- the terminal view ---------------------------------------------------------------------------


def print_trace(trace: Any, console: Any = None) -> None:
    from workflows import render
    from workflows.trace_html import fmt_ms

    console = console or render.console
    status_bits = [f"started {_when(trace.started)}"]
    status_bits.append(fmt_ms(trace.duration_ms) if trace.duration_ms is not None else "still running")
    retries = sum(v.retries for v in trace.visits)
    status_bits.append(f"{len(trace.visits)} states" + (f", {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""))
    console.print(Text.assemble(("execution  ", ""), (trace.name, "bold"), f"  ({trace.state_machine_name})"))
    console.print(f"arn        {trace.execution_arn}", markup=False)
    console.print(Text.assemble("status     ", (trace.status, render._STATUS_STYLE.get(trace.status, "white")),
                                "  " + " · ".join(status_bits)))
    console.print()
    console.print(states_table(trace))
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
    from workflows import render
    from workflows.trace_html import fmt_ms

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
        label.append(v.name, style="bold" if v.depth == 0 else "")
        label.append(f" {v.type}", style="dim")
        table.add_row(_offset(trace, v.entered), fmt_ms(v.duration_ms) if v.duration_ms is not None else "",
                      label, result_text(v))
        failed_tries = [a for a in v.tries if a.failed]
        if v.retries or (failed_tries and len(v.tries) > 1):
            for a in v.tries:
                what = (Text(error_line(a.error, a.cause), style="red") if a.failed
                        else Text("succeeded", style="green"))
                table.add_row(_offset(trace, a.scheduled or a.started), "", Text(f"{indent}  attempt {a.number}", style="dim"), what)
        if v.waited_for_token:
            wait = v.token_wait_ms
            table.add_row("", fmt_ms(wait) if wait is not None else "", Text(f"{indent}  task token", style="dim"),
                          Text("waiting for SendTaskSuccess / SendTaskFailure", style="cyan") if v.waiting_for_token
                          else Text("came back" + (f" with {v.tries[-1].error}" if v.tries[-1].failed else ""), style="dim"))
    return table


def result_text(v: Any) -> Text:
    from workflows import render

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
        text.append(f" after {v.retries} {'retry' if v.retries == 1 else 'retries'}", style="magenta")
    if v.iterations is not None:
        text.append(f" ({v.iterations} items)", style="dim")
    if v.waiting_for_token:
        text.append(" (waiting for its task token)", style="cyan")
    return text


def error_line(error: str | None, cause: str | None) -> str:
    """`TransientInspectionError: telemetry link timed out` (a Lambda cause names its type once)."""
    from workflows import render

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
        kids = sorted(kids, key=lambda v: (v.branch if v.branch is not None else -1,
                                           v.iteration if v.iteration is not None else -1))
        for v in kids:
            out.append(v)
            emit(id(v))

    emit(None)
    return out


def _offset(trace: Any, when: Any) -> str:
    from workflows.trace_html import fmt_ms

    value = trace.offset_ms(when)
    return "" if value is None else f"+{fmt_ms(value)}"


def _when(value: Any) -> str:
    from workflows.trace_html import _when as when

    return when(value) or "?"
