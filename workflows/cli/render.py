"""Terminal output for the CLI: colour on a terminal, plain text when piped (rich decides)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from workflows.targets.stepfunctions import ExecutionResult

# Piped output is read by programs and people's pagers: wide enough that no ARN is cut.
_WIDTH = None if sys.stdout.isatty() else 220
console = Console(highlight=False, soft_wrap=True, width=_WIDTH)

_STATUS_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "TIMED_OUT": "red", "ABORTED": "yellow", "RUNNING": "cyan"}


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


def execution(result: ExecutionResult) -> None:
    console.print(f"execution  {result.execution_arn}")
    console.print(f"status     {status(result.status)}")
    if result.status == "SUCCEEDED":
        console.print(f"output     {json.dumps(result.output)}", markup=False)
    elif result.error or result.cause:
        console.print(f"error      {result.error}", markup=False)
        console.print(f"cause      {short_cause(result.cause)}", markup=False)
    console.print(f"states     {states_line(result)}", markup=False)


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
