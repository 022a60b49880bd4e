"""An execution as one self-contained HTML page: the state machine graph with the path taken, a
click on a state for its input, output and error, and the event table below.

    html = render_page(load_trace(sfn, arn))            # everything inlined: nothing is fetched
    write_html(sfn, arn, Path("trace.html"))

The graph is laid out in the page by elkjs (installed from npm by `make setup`, pinned in
package.json) which is inlined from node_modules when the page is generated. The server writes
every state as an element, nested like the ASL (Parallel branches and Map processors are groups)
and classed with what happened there (`succeeded`, `failed`, `caught`, `retried`, `running`,
`not-visited`), so the page reads without JavaScript too, and tests can check it with a parser.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from workflows.definitions import asl
from workflows.trace.io_steps import io_steps
from workflows.trace.model import Edge, ExecutionTrace, Graph, Node, StateSummary, StateVisit, json_or_text, load_trace

ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"
LAYOUT_PACKAGE = "elkjs"
LAYOUT_SCRIPT = "lib/elk.bundled.js"
MAX_VISITS_SHOWN = 50  # per state, in the page's data (a Map over thousands of items stays small)
MAX_JSON_CHARS = 20_000  # per input / output shown


STANDALONE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


class LayoutLibraryMissing(RuntimeError):
    """elkjs is not installed (or not the pinned version): `make setup` installs it."""


def node_modules() -> Path:
    return Path(os.environ.get("FLEET_NODE_MODULES", ROOT / "node_modules"))


def pinned_layout_version() -> str | None:
    try:
        package = json.loads((ROOT / "package.json").read_text())
    except (OSError, ValueError):
        return None
    deps = {**package.get("devDependencies", {}), **package.get("dependencies", {})}
    return deps.get(LAYOUT_PACKAGE)


def layout_library() -> tuple[str, str]:
    """(version, path) of the installed elkjs bundle, checked against package.json's pin."""
    package_dir = node_modules() / LAYOUT_PACKAGE
    script = package_dir / LAYOUT_SCRIPT
    try:
        version = json.loads((package_dir / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        raise LayoutLibraryMissing(f"the graph layout library {LAYOUT_PACKAGE} is not installed in {node_modules()}: "
                                   "run `make setup` (npm ci)") from None
    pinned = pinned_layout_version()
    if pinned and pinned != version:
        raise LayoutLibraryMissing(f"{LAYOUT_PACKAGE} {version} is installed but package.json pins {pinned}: "
                                   "run `make setup` (npm ci)")
    if not script.is_file():
        raise LayoutLibraryMissing(f"{script} is missing: run `make setup` (npm ci)")
    return version, str(script)


def layout_script() -> str:
    return Path(layout_library()[1]).read_text(encoding="utf-8")


# --- the page -------------------------------------------------------------------------------------


def render_page(trace: ExecutionTrace, *, script_url: str | None = None, back_url: str | None = None,
                poll_url: str | None = None, poll_interval_ms: int = 1000, actions_html: str = "") -> str:
    """The execution's page. With `script_url` the layout library is referenced (the console serves
    it); without, it is inlined and the page needs nothing else. `poll_url` (a running execution in
    the console) makes the page reload itself when the execution moves on."""
    version, _ = layout_library()
    graph = trace.graph() or _graph_from_visits(trace)
    summaries = trace.summaries()
    context = _IoContext(asl.parse(trace.definition).by_path() if trace.definition else {},
                         {ev["id"]: ev for ev in trace.events})
    taken = trace.taken_edges()
    data = {
        "execution": {"arn": trace.execution_arn, "name": trace.name, "status": trace.status,
                      "stateMachine": trace.state_machine_name, "durationMs": trace.duration_ms,
                      "elapsedMs": max((trace.offset_ms(v.entered) or 0) + (v.duration_ms or 0) for v in trace.visits)
                      if trace.visits else 0},
        "graph": {
            "nodes": [_node_data(n) for n in graph.nodes],
            "edges": [{"id": e.id, "source": e.source, "target": e.target, "kind": e.kind, "label": e.label,
                       "taken": (e.source, e.target) in taken} for e in graph.edges],
        },
        "states": {nid: _summary_data(trace, s, context) for nid, s in summaries.items() if s.visits},
        "focus": _focus(trace),
        "poll": {"url": poll_url, "events": len(trace.events), "intervalMs": poll_interval_ms}
        if poll_url and trace.running else None,
    }
    layout = (f'<script src="{_a(script_url)}"></script>' if script_url
              else f"<script>{_inline_script(layout_script())}</script>")
    title = f"{trace.name} · {trace.state_machine_name}"
    return "\n".join([
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="fleet trace; layout by {LAYOUT_PACKAGE} {version}">',
        '<link rel="icon" href="data:,">',
        # Self-contained means it: the page may not fetch anything (the console serves its own policy).
        "" if script_url else f'<meta http-equiv="Content-Security-Policy" content="{STANDALONE_CSP}">',
        f"<title>{_t(title)}</title>",
        f"<style>{(STATIC / 'trace.css').read_text(encoding='utf-8')}</style>",
        "</head>",
        f'<body data-status="{_a(trace.status)}">',
        _header(trace, back_url),
        actions_html,
        "<main>",
        '<section id="graph-panel" aria-label="state machine graph">',
        f'<div class="toolbar">{_legend()}{_view_controls()}</div>',
        '<div id="graph-viewport" title="wheel: zoom · drag: pan"><div id="graph" data-layout="pending">',
        '<svg id="edges" xmlns="http://www.w3.org/2000/svg"></svg>',
        _nodes_html(graph, summaries, None),
        '</div><canvas id="minimap" width="180" height="120" aria-label="minimap: click to move there"></canvas></div>',
        "</section>",
        '<aside id="details" aria-live="polite">'
        '<p class="hint">Click a state to see its input, output and errors.</p></aside>',
        "</main>",
        '<section id="timeline" class="events timeline" aria-label="timeline"></section>',
        _events_html(trace),
        f"<footer>Generated {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC by <code>fleet trace</code> from "
        "DescribeExecution, DescribeStateMachine and GetExecutionHistory. "
        f"Layout: {LAYOUT_PACKAGE} {version}.</footer>",
        f'<script type="application/json" id="trace-data">{_json_for_script(data)}</script>',
        layout,
        f"<script>{_inline_script((STATIC / 'trace.js').read_text(encoding='utf-8'))}</script>",
        "</body>",
        "</html>",
    ])


def write_html(sfn: Any, execution_arn: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(load_trace(sfn, execution_arn)), encoding="utf-8")
    return path


def write_all(sfn: Any, state_machine_arns: Iterable[str], directory: Path) -> list[Path]:
    """One page per execution of these state machines, plus an index.html listing them."""
    directory.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, list[dict]]] = []
    written: list[Path] = []
    for sm_arn in state_machine_arns:
        sm_name = sm_arn.rsplit(":", 1)[-1]
        executions = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm_arn)
                      for e in page["executions"]]
        for e in executions:
            path = directory / f"{_safe(sm_name)}--{_safe(e['name'])}.html"
            written.append(write_html(sfn, e["executionArn"], path))
            e["href"] = path.name
        rows.append((sm_name, executions))
    index = directory / "index.html"
    index.write_text(executions_page(rows, title="Executions", link=lambda e: e["href"]), encoding="utf-8")
    return written


def write_traces(sfn: Any, directory: Path = Path("traces"), say: Callable[[str], None] = print) -> list[Path]:
    """`fleet demo`'s graphs: a page per execution of the fleet's state machines at this client,
    and an index.html; says where (or, without the layout library, why not)."""
    from workflows.definitions import catalog

    names = {sm.name for sm in catalog.STATE_MACHINES}
    arns = [m["stateMachineArn"] for page in sfn.get_paginator("list_state_machines").paginate()
            for m in page["stateMachines"] if m["name"] in names]
    try:
        written = write_all(sfn, sorted(arns), directory)
    except LayoutLibraryMissing as exc:
        say(f"execution graphs not written: {exc}")
        return []
    say(f"execution graphs: {len(written)} pages in {directory}/ (open {directory / 'index.html'})")
    return written


# --- pieces ---------------------------------------------------------------------------------------


def _header(trace: ExecutionTrace, back_url: str | None) -> str:
    facts = [
        ("status", f'<span class="status-badge {_a(trace.status)}">{_t(trace.status)}</span>'),
        ("started", _t(_when(trace.started))),
        ("duration", _t(fmt_ms(trace.duration_ms)) if trace.duration_ms is not None else "running"),
        ("states", str(len(trace.visits))),
        ("retries", str(sum(v.retries for v in trace.visits))),
    ]
    parts = ["<header>"]
    if back_url:
        parts.append(f'<a class="back" href="{_a(back_url)}">&larr; all executions</a>')
    parts.append(f"<h1>{_t(trace.name)}</h1>")
    parts.append(f'<div class="machine">{_t(trace.state_machine_name)} &middot; '
                 f"<code>{_t(trace.execution_arn)}</code></div>")
    parts.append('<div class="facts">' + "".join(f"<span><b>{k}</b>{v}</span>" for k, v in facts) + "</div>")
    if trace.status == "SUCCEEDED":
        parts.append(f'<div class="result succeeded" title="output">{_t(_pretty(trace.output))}</div>')
    elif trace.error or trace.cause:
        parts.append(f'<div class="result failed" title="error and cause"><b>{_t(trace.error or "")}</b> '
                     f"{_t(_short(trace.cause, 600, trace.error))}</div>")
        if trace.cause and _short(trace.cause, 10**6, trace.error) != trace.cause:
            parts.append(f"<details><summary>full cause</summary>{cause_html(trace.cause)}</details>")
    parts.append("</header>")
    return "\n".join(parts)


def _view_controls() -> str:
    buttons = [("zoom-out", "\u2212", "zoom out"), ("zoom-in", "+", "zoom in"), ("zoom-fit", "fit", "the whole machine"),
               ("zoom-actual", "100%", "actual size")]
    return ('<div class="view-controls"><button id="fold" type="button" hidden></button>'
            + "".join(f'<button id="{i}" type="button" title="{t}">{label}</button>' for i, label, t in buttons)
            + '<span id="zoom-level" class="hint"></span></div>')


def cause_html(cause: str) -> str:
    """A cause as HTML: a Lambda error payload as its error, message and stack trace frame by
    frame (not an escaped JSON string); any other cause as preformatted text."""
    payload = json_or_text(cause)
    if not isinstance(payload, dict) or "errorMessage" not in payload:
        return f"<pre>{_t(_pretty(payload))}</pre>"
    frames = payload.get("stackTrace") or payload.get("trace") or []
    stack = "".join(f"<li><code>{_t(str(f).rstrip())}</code></li>" for f in frames) if isinstance(frames, list) else ""
    plural = "frame" if len(frames) == 1 else "frames"
    return (f'<div class="lambda-error"><div class="lambda-error-head"><b>{_t(payload.get("errorType") or "Error")}</b>: '
            f'{_t(payload["errorMessage"])}</div>'
            + (f'<details open><summary>stack trace ({len(frames)} {plural})</summary><ol class="stack">{stack}</ol></details>'
               if stack else "") + "</div>")


def _legend() -> str:
    items = [("succeeded", "succeeded"), ("failed", "failed"), ("caught", "caught"), ("retried", "retried"),
             ("running", "running"), ("not-visited", "not visited")]
    swatch = {"succeeded": "var(--ok)", "failed": "var(--bad)", "caught": "var(--caught)", "retried": "var(--retry)",
              "running": "var(--run)", "not-visited": "var(--idle)"}
    lis = [f'<li><span class="swatch" style="border-color:{swatch[c]}"></span>{label}</li>' for c, label in items]
    lis.append('<li><span class="line taken"></span>path taken</li>')
    lis.append('<li><span class="line catch"></span>Catch</li>')
    lis.append('<li><span class="badge catch">\u26a0 n</span>Catches into folded error handling</li>')
    return '<ul class="legend">' + "".join(lis) + "</ul>"


def _nodes_html(graph: Graph, summaries: dict[str, StateSummary], parent: str | None) -> str:
    out = []
    for n in graph.nodes:
        if n.parent != parent:
            continue
        s = summaries.get(n.id)
        if n.type == "Branch":
            visited = any(summaries.get(c.id) and summaries[c.id].visits for c in graph.nodes if c.parent == n.id)
            classes = ["group", "type-branch", "visited" if visited else "not-visited"]
        elif n.type in ("Start", "End"):
            classes = ["node", f"type-{n.type.lower()}"]
        else:
            classes = ["group" if n.is_group else "node", f"type-{n.type.lower()}"]
            classes += s.classes if s else ["not-visited"]
        attrs = {"class": " ".join(classes), "data-node": n.id, "data-type": n.type}
        if s is not None and n.type not in ("Branch", "Start", "End"):
            attrs["data-status"] = s.status
            attrs["data-retries"] = str(s.retries)
            attrs["data-visits"] = str(len(s.visits))
            attrs["title"] = _tooltip(n, s)
        attr_text = " ".join(f'{k}="{_a(v)}"' for k, v in attrs.items())
        label = f'<span class="name">{_t(n.name)}</span>'
        meta = "" if n.type in ("Start", "End", "Branch") else f'<span class="meta">{_t(_meta(n))}</span>'
        badges = _badges(s) if s is not None else ""
        if n.is_group:
            out.append(f'<div {attr_text}><div class="group-title">{label}{meta}{badges}</div>'
                       f"{_nodes_html(graph, summaries, n.id)}</div>")
        else:
            out.append(f"<div {attr_text}>{label}{meta}{badges}</div>")
    return "\n".join(out)


def _badges(s: StateSummary) -> str:
    badges = []
    if s.retries:
        badges.append(f'<span class="badge retries" title="retries">&#8635; {s.retries}</span>')
    if len(s.visits) > 1:
        badges.append(f'<span class="badge visits" title="visits">&times;{len(s.visits)}</span>')
    if any(v.waiting_for_token for v in s.visits):
        badges.append('<span class="badge token" title="waiting for its task token">waiting</span>')
    elif any(v.waited_for_token for v in s.visits):
        waits = [v.token_wait_ms for v in s.visits if v.token_wait_ms is not None]
        shown = f" {fmt_ms(sum(waits))}" if waits else ""
        badges.append(f'<span class="badge token" title="waited for its task token">token{_t(shown)}</span>')
    return f'<span class="badges">{"".join(badges)}</span>' if badges else ""


def _resource(n: Node) -> str:
    """`lambda:invoke`, `sqs:sendMessage.waitForTaskToken`; a function or activity by its name."""
    resource = (n.resource or "").removeprefix("arn:aws:states:::")
    return resource.rsplit(":", 1)[-1] if resource.startswith("arn:") else resource


def _meta(n: Node) -> str:
    resource = _resource(n)
    return f"{n.type} · {resource}" if resource else n.type


def _tooltip(n: Node, s: StateSummary) -> str:
    text = f"{n.name}: {s.status}"
    if s.retries:
        text += f", {s.retries} {'retry' if s.retries == 1 else 'retries'}"
    errors = [e for v in s.visits for e in v.errors]
    if errors:
        text += " (" + ", ".join(dict.fromkeys(errors)) + ")"
    return text


def _node_data(n: Node) -> dict:
    return {"id": n.id, "name": n.name, "type": n.type, "parent": n.parent, "group": n.is_group,
            "comment": n.comment, "resource": _resource(n) or None}


@dataclass(frozen=True)
class _IoContext:
    states: dict[tuple[str, ...], asl.State]
    events: dict[int, dict[str, Any]]


def _summary_data(trace: ExecutionTrace, s: StateSummary, context: _IoContext) -> dict:
    return {
        "status": s.status,
        "classes": s.classes,
        "retries": s.retries,
        "visitCount": len(s.visits),
        "visits": [_visit_data(trace, v, context) for v in s.visits[:MAX_VISITS_SHOWN]],
    }


def _visit_data(trace: ExecutionTrace, v: StateVisit, context: _IoContext) -> dict:
    return {
        "io": [{**step, "value": _clip_json(step["value"])} for step in io_steps(context.states.get(v.path), v, context.events)],
        "status": v.status,
        "entered": _when(v.entered),
        "offsetMs": trace.offset_ms(v.entered),
        "durationMs": v.duration_ms,
        "iteration": v.iteration,
        "branch": v.branch,
        "iterations": v.iterations,
        "waitedForToken": v.waited_for_token,
        "waiting": v.waiting_for_token,
        "tokenWaitMs": v.token_wait_ms,
        "attempts": [{"number": a.number, "error": a.error, "cause": _clip(a.cause),
                      "message": _short(a.cause, 600, a.error) if a.cause else None,
                      "offsetMs": trace.offset_ms(a.scheduled or a.started)} for a in v.tries],
        "error": v.error,
        "cause": _clip(v.cause),
        "message": _short(v.cause, 600, v.error) if v.cause else None,
        "input": _clip_json(v.input),
        "output": _clip_json(v.output),
    }


def _focus(trace: ExecutionTrace) -> str | None:
    for v in reversed(trace.visits):
        if v.status == "failed" and v.type != "Fail":
            return v.node_id
    for v in trace.visits:
        if v.waiting_for_token:
            return v.node_id
    return None


def _graph_from_visits(trace: ExecutionTrace) -> Graph:
    """Without the definition (not readable), the states visited still make a graph."""
    nodes = [Node(Graph.START, "Start", "Start")]
    seen: set[str] = set()
    for v in trace.visits:
        if v.node_id not in seen:
            seen.add(v.node_id)
            nodes.append(Node(v.node_id, v.name, v.type))
    nodes.append(Node(Graph.END, "End", "End"))
    known = seen | {Graph.START, Graph.END}
    edges = [Edge(a, b, "next") for a, b in sorted(trace.taken_edges()) if a in known and b in known]
    return Graph(nodes, edges)


# --- the event table --------------------------------------------------------------------------------


def _events_html(trace: ExecutionTrace) -> str:
    owners = trace.event_state()
    rows = []
    for ev in trace.events:
        v = owners.get(ev["id"])
        etype = ev["type"]
        failed = etype.endswith(("Failed", "TimedOut", "Aborted"))
        cls = "failed" if failed else ("ok" if etype.endswith("Succeeded") else "")
        node_attr = f' data-node="{_a(v.node_id)}"' if v is not None else ""
        where = v.node_id.replace("/ItemProcessor/", " / ").replace("/Iterator/", " / ") if v else ""
        if v is not None and v.iteration is not None:
            where += f" [item {v.iteration}]"
        rows.append(
            f'<tr class="{cls}"{node_attr}><td class="num">{ev["id"]}</td>'
            f'<td class="num">{_t(_offset(trace, ev.get("timestamp")))}</td>'
            f'<td class="type">{_t(etype)}</td><td>{_t(where)}</td>'
            f'<td class="detail">{_t(event_summary(ev))}</td></tr>')
    return ('<section class="events"><h2>Events</h2><table class="events"><thead><tr><th>#</th><th>time</th>'
            "<th>type</th><th>state</th><th>detail</th></tr></thead><tbody>"
            + "\n".join(rows) + "</tbody></table></section>")


def event_summary(ev: dict) -> str:
    """One line about an event: its error and cause, a task's resource, a Map's items."""
    d = next((v for k, v in ev.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
    if d.get("error") or d.get("cause"):
        return f"{d.get('error') or ''}: {_short(d.get('cause'), error=d.get('error'))}".strip(": ")
    if "length" in d:
        return f"{d['length']} items"
    if "index" in d:
        return f"item {d['index']}"
    if "resource" in d:
        return f"{d.get('resourceType', '')}:{d['resource']}".lstrip(":")
    if "output" in d and ev["type"].startswith("Execution"):
        return _short(d["output"], 160)
    if "input" in d and ev["type"] == "ExecutionStarted":
        return _short(d["input"], 160)
    return ""


# --- the execution list (console and index.html) ----------------------------------------------------


def executions_page(machines: list[tuple[str, list[dict]]], *, title: str, link: Any, refresh_s: int | None = None,
                    note: str = "") -> str:
    """Executions per state machine: status, start, duration, each linking to its graph."""
    sections = []
    for sm_name, executions in machines:
        rows = []
        for e in executions:
            start, stop = e.get("startDate"), e.get("stopDate")
            duration = fmt_ms((stop - start).total_seconds() * 1000) if start and stop else ""
            rows.append(
                f'<tr class="execution {_a(e["status"])}"><td><a href="{_a(link(e))}">{_t(e["name"])}</a></td>'
                f'<td><span class="status-badge {_a(e["status"])}">{_t(e["status"])}</span></td>'
                f'<td>{_t(_when(start))}</td>'
                f'<td class="num">{_t(duration or ("running" if e["status"] == "RUNNING" else ""))}</td></tr>')
        body = "\n".join(rows) if rows else '<tr><td colspan="4" class="hint">no executions yet</td></tr>'
        sections.append(
            f'<section class="events machine" data-state-machine="{_a(sm_name)}"><h2>{_t(sm_name)} '
            f'<small class="hint">({len(executions)})</small></h2><table><thead><tr><th>execution</th><th>status</th>'
            f"<th>started</th><th>duration</th></tr></thead><tbody>{body}</tbody></table></section>")
    refresh = f'<meta http-equiv="refresh" content="{refresh_s}">' if refresh_s else ""
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">', refresh,
        '<link rel="icon" href="data:,">', f"<title>{_t(title)}</title>",
        f"<style>{(STATIC / 'trace.css').read_text(encoding='utf-8')}</style>", "</head>",
        "<body>", f"<header><h1>{_t(title)}</h1>",
        f'<div class="machine">{_t(note)}</div>' if note else "", "</header>",
        '<div style="height:16px"></div>', *sections, "</body>", "</html>",
    ])


# --- formatting -------------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return ""
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.2f} s" if value < 10_000 else f"{value / 1000:.1f} s"
    minutes, seconds = divmod(round(value / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _offset(trace: ExecutionTrace, when: datetime | None) -> str:
    value = trace.offset_ms(when)
    return "" if value is None else f"+{fmt_ms(value)}"


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d} UTC"


def _short(text: Any, limit: int = 240, error: str | None = None) -> str:
    """A cause in brief: a Lambda error's cause is its JSON error payload; show the message."""
    if text is None:
        return ""
    text = str(text)
    try:
        payload = json.loads(text)
        if isinstance(payload, dict) and "errorMessage" in payload:
            kind = payload.get("errorType", "")
            text = str(payload["errorMessage"]) if not kind or kind == error else f"{kind}: {payload['errorMessage']}"
    except ValueError:
        pass
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_JSON_CHARS:
        return text
    return text[:MAX_JSON_CHARS] + f"… ({len(text) - MAX_JSON_CHARS} more characters)"


def _clip_json(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) <= MAX_JSON_CHARS else _clip(json.dumps(value, indent=2, default=str))


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, default=str) if not isinstance(value, str) else value


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _t(text: Any) -> str:
    return html.escape(str(text), quote=False)


def _a(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _json_for_script(data: Any) -> str:
    """JSON that cannot end its <script> element early or open a comment."""
    return (json.dumps(data, default=str).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _inline_script(source: str) -> str:
    return source.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def execution_path(prefix: str, execution_arn: str) -> str:
    return f"{prefix}/executions/{quote(execution_arn, safe='')}"
