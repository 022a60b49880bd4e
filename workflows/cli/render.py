"""Terminal output for the CLI: colour on a terminal, plain text when piped (rich decides), and
`--output json` for every command that reads: one JSON document on stdout, nothing else there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from workflows.targets.stepfunctions import ExecutionResult


class _Console(Console):
    def on_broken_pipe(self) -> None:  # rich exits 1; `fleet` says 141 for every command (errors.Exit)
        self.quiet = True
        raise BrokenPipeError


# Piped output is read by programs and people's pagers: wide enough that no ARN is cut.
_WIDTH = None if sys.stdout.isatty() else 220
console = _Console(highlight=False, soft_wrap=True, width=_WIDTH)
# Progress and notes that are not the command's answer: stderr, so stdout stays the answer.
notes = _Console(stderr=True, highlight=False, soft_wrap=True)

_STATUS_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "TIMED_OUT": "red", "ABORTED": "yellow", "RUNNING": "cyan"}


def add_output_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", choices=("text", "json"), default="text",
                   help="text for people (default), or json: one JSON document on stdout")
    p.add_argument("--json", dest="output", action="store_const", const="json", help="the same as --output json")


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "text") == "json"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def status(text: str) -> str:
    return f"[{_STATUS_STYLE.get(text, 'white')}]{text}[/]"


def states_line(result: ExecutionResult) -> str:
    """`ValidateCar > PersistCar > InspectCar (2 retries: TransientInspectionError) > ...`"""
    parts = []
    for v in result.visits:
        part = v.name
        if v.retries:
            part += f" ({v.retries} {'retry' if v.retries == 1 else 'retries'}: {', '.join(dict.fromkeys(v.errors))})"
        elif v.status == "caught":
            part += f" (caught {v.errors[-1]})"
        parts.append(part)
    return " > ".join(parts)


def execution(result: ExecutionResult, header: bool = True) -> None:
    if header:
        console.print(f"execution  {result.execution_arn}", markup=False)
    console.print(f"status     {status(result.status)}")
    if result.status == "SUCCEEDED":
        console.print(f"output     {json.dumps(result.output)}", markup=False)
    elif result.error or result.cause:
        console.print(f"error      {result.error}", markup=False)
        console.print(f"cause      {short_cause(result.cause)}", markup=False)
    console.print(f"states     {states_line(result)}", markup=False)


def execution_data(result: ExecutionResult) -> dict[str, Any]:
    """An execution for --output json: what `execution` prints, as data."""
    data: dict[str, Any] = {"execution_arn": result.execution_arn, "name": result.execution_arn.rsplit(":", 1)[-1],
                            "status": result.status, "input": result.input}
    if result.status == "SUCCEEDED":
        data["output"] = result.output
    if result.error or result.cause:
        data["error"], data["cause"] = result.error, result.cause
    data["states"] = [{"name": v.name, "type": v.type, "status": v.status, "retries": v.retries, "errors": v.errors}
                      for v in result.visits]
    return data


def short_cause(cause: str | None) -> str:
    """A Lambda error cause is its JSON error payload: show the message, not the stack."""
    if not cause:
        return ""
    try:
        payload = json.loads(cause)
        if isinstance(payload, dict) and "errorMessage" in payload:
            return f"{payload.get('errorType', '')}: {payload['errorMessage']}"
    except ValueError:
        pass
    return cause


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    t = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        t.add_column(c)
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    console.print(t)


def fields(values: dict[str, Any]) -> str:
    """`odometer_km=12, battery_pct=71.5`: a few values in a line, never a Python repr."""
    return ", ".join(f"{k}={json.dumps(v) if not isinstance(v, (int, float)) else v}" for k, v in values.items())
