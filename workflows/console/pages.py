"""The console's pages: a shell per view (executions, fleet, DLQ, functions) with the navigation,
the console's token for its actions, and the data of the first paint; workflows/console/static/
console.js fills and updates them (the executions list live, over server-sent events)."""

from __future__ import annotations

import html
import json
from typing import Any

from workflows.trace.html import STATIC as TRACE_STATIC
from workflows.trace.html import _json_for_script

VIEWS = (("executions", "", "Executions"), ("fleet", "/fleet", "Fleet"), ("dlq", "/dlq", "DLQ"),
         ("functions", "/functions", "Functions"))


def nav(base: str, current: str) -> str:
    links = "".join(f'<a href="{html.escape(base + path or base + "/")}"{" aria-current=page" if name == current else ""}>'
                    f"{label}</a>" for name, path, label in VIEWS)
    return f'<nav class="console-nav"><b>fleet console</b>{links}</nav>'


def shell(view: str, base: str, token: str, data: Any, title: str, body_html: str = "") -> str:
    boot = {"view": view, "base": base, "token": token, "data": data}
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)} · fleet console</title>",
        f"<style>{(TRACE_STATIC / 'trace.css').read_text(encoding='utf-8')}</style>",
        f'<link rel="stylesheet" href="{html.escape(base)}/static/console.css">',
        "</head>", f'<body data-view="{html.escape(view)}">', nav(base, view),
        f'<main class="console-main" id="view">{body_html}</main>',
        f'<script type="application/json" id="console-data">{_json_for_script(boot)}</script>',
        f'<script src="{html.escape(base)}/static/console.js"></script>',
        "</body>", "</html>",
    ])


def executions_table(rows: list[dict[str, Any]], link: Any) -> str:
    """The first paint of the list (readable without script): one row per execution."""
    out = []
    for r in rows:
        out.append(f'<tr class="execution {html.escape(r["status"])}" data-arn="{html.escape(r["arn"])}">'
                   f'<td><a href="{html.escape(link(r["arn"]))}">{html.escape(r["name"])}</a></td>'
                   f'<td>{html.escape(r["stateMachine"])}</td>'
                   f'<td><span class="status-badge {html.escape(r["status"])}">{html.escape(r["status"])}</span></td>'
                   f'<td>{html.escape(r["outcome"] or "")}</td><td>{html.escape(r["start"] or "")}</td></tr>')
    return ('<table class="executions"><thead><tr><th>execution</th><th>state machine</th><th>status</th>'
            "<th>outcome</th><th>started</th></tr></thead><tbody>" + "\n".join(out) + "</tbody></table>")


def execution_actions(base: str, token: str, trace: Any, waits: list[Any]) -> str:
    """What the console adds to an execution's page: its actions (stop, answer a token, start again)."""
    boot = {"view": "execution", "base": base, "token": token, "data": {
        "executionArn": trace.execution_arn, "stateMachineArn": trace.state_machine_arn, "status": trace.status,
        "input": json.dumps(trace.input, indent=2, default=str),
        "waits": [{"state": w.state, "nodeId": w.node_id, "hasToken": w.token is not None} for w in waits]}}
    return (f'<link rel="stylesheet" href="{html.escape(base)}/static/console.css">'
            '<section id="console-actions" class="actions" aria-label="actions"></section>'
            f'<script type="application/json" id="console-data">{_json_for_script(boot)}</script>'
            f'<script src="{html.escape(base)}/static/console.js"></script>')
