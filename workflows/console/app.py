"""The local console: executions per state machine, each opening its graph view. A WSGI app.

    app = console_app(sfn)        # any Step Functions client: the local cloud's, an endpoint's, AWS's

Mount it for the paths starting with /console. Either way of mounting works: the full path in
PATH_INFO (SCRIPT_NAME empty), or SCRIPT_NAME set to the mount point and the rest in PATH_INFO
(as werkzeug's DispatcherMiddleware does); links are made under whichever prefix it was reached at.

    GET /console                                  executions per state machine: status, start, duration
    GET /console/executions/<urlencoded arn>      the execution's graph, path and event table
    GET /console/executions/<urlencoded arn>/status   {"status": ..., "events": n} (what a running page polls)
    GET /console/static/elk.js                    the layout library (elkjs, from node_modules)

A running execution's page polls its status and reloads when the execution moves on; the list
reloads itself while any execution runs. Reads only ListStateMachines, ListExecutions,
DescribeExecution, DescribeStateMachine and GetExecutionHistory.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from workflows.trace import html
from workflows.trace.model import load_trace

PREFIX = "/console"
MAX_EXECUTIONS = 100  # per state machine, newest first

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

_PAGE_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
             "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def console_app(sfn: Any, *, prefix: str = PREFIX, refresh_s: int = 2, poll_interval_ms: int = 1000) -> WsgiApp:
    """A WSGI app serving the console from this Step Functions client."""
    console = _Console(sfn, prefix.rstrip("/"), refresh_s, poll_interval_ms)
    return console


class _Console:
    def __init__(self, sfn: Any, prefix: str, refresh_s: int, poll_interval_ms: int):
        self.sfn = sfn
        self.prefix = prefix
        self.refresh_s = refresh_s
        self.poll_interval_ms = poll_interval_ms

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        base, rest = self._route(environ)
        if rest is None:
            status, headers, body = _text(HTTPStatus.NOT_FOUND, f"not a console path (the console is at {self.prefix})")
        elif method not in ("GET", "HEAD"):
            status, headers, body = _text(HTTPStatus.METHOD_NOT_ALLOWED, "the console is read-only")
            headers.append(("Allow", "GET, HEAD"))
        else:
            try:
                status, headers, body = self._dispatch(base, rest)
            except html.LayoutLibraryMissing as exc:
                status, headers, body = _text(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            except Exception as exc:  # noqa: BLE001 - one page fails, not the server
                status, headers, body = _failure(exc)
        headers.append(("Content-Length", str(len(body))))
        headers.append(("X-Content-Type-Options", "nosniff"))
        start_response(f"{status.value} {status.phrase}", headers)
        return [] if method == "HEAD" else [body]

    def _route(self, environ: dict) -> tuple[str, str | None]:
        script = environ.get("SCRIPT_NAME", "").rstrip("/")
        path = environ.get("PATH_INFO", "") or ""
        if "%" in path:  # a server that did not decode the path
            path = unquote(path)
        if script:
            return script, path
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return self.prefix, path[len(self.prefix):]
        return self.prefix, None

    def _dispatch(self, base: str, rest: str) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
        if rest in ("", "/"):
            return self._list(base)
        if rest == "/static/elk.js":
            return self._layout_library()
        if rest.startswith("/executions/"):
            arn = rest[len("/executions/"):]
            if arn.endswith("/status"):
                return self._status(arn[: -len("/status")])
            return self._execution(base, arn.rstrip("/"))
        return _text(HTTPStatus.NOT_FOUND, f"no such console page: {base}{rest}")

    # --- pages ----------------------------------------------------------------------------------

    def _list(self, base: str) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
        machines = []
        for page in self.sfn.get_paginator("list_state_machines").paginate():
            machines.extend(page["stateMachines"])
        rows: list[tuple[str, list[dict]]] = []
        running = False
        for sm in sorted(machines, key=lambda m: m["name"]):
            executions = self.sfn.list_executions(stateMachineArn=sm["stateMachineArn"],
                                                  maxResults=MAX_EXECUTIONS)["executions"]
            executions.sort(key=lambda e: e["startDate"], reverse=True)
            running = running or any(e["status"] == "RUNNING" for e in executions)
            rows.append((sm["name"], executions))
        page = html.executions_page(
            rows, title="Executions", link=lambda e: html.execution_path(base, e["executionArn"]),
            refresh_s=self.refresh_s if running else None,
            note="newest first" + (f"; reloads every {self.refresh_s} s while an execution runs" if running else ""))
        return _html(page)

    def _execution(self, base: str, arn: str) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
        from botocore.exceptions import ClientError

        try:
            trace = load_trace(self.sfn, arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ExecutionDoesNotExist", "InvalidArn", "StateMachineDoesNotExist", "ResourceNotFound"):
                return _text(HTTPStatus.NOT_FOUND, f"no execution {arn}: {code}")
            raise
        page = html.render_page(
            trace, script_url=f"{base}/static/elk.js", back_url=f"{base}/",
            poll_url=html.execution_path(base, arn) + "/status", poll_interval_ms=self.poll_interval_ms)
        return _html(page)

    def _status(self, arn: str) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
        from botocore.exceptions import ClientError

        try:
            desc = self.sfn.describe_execution(executionArn=arn)
            events = 0
            for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                events += len(page["events"])
        except ClientError as exc:
            return _text(HTTPStatus.NOT_FOUND, f"no execution {arn}: {exc.response.get('Error', {}).get('Code')}")
        body = json.dumps({"status": desc["status"], "events": events}).encode()
        return HTTPStatus.OK, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body

    def _layout_library(self) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
        version, path = html.layout_library()
        body = Path(path).read_bytes()
        return HTTPStatus.OK, [("Content-Type", "text/javascript; charset=utf-8"),
                               ("Cache-Control", "max-age=3600"), ("ETag", f'"elkjs-{version}"')], body


def _html(page: str) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
    return HTTPStatus.OK, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                           ("Content-Security-Policy", _PAGE_CSP)], page.encode("utf-8")


def _text(status: HTTPStatus, message: str) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")], \
        (message + "\n").encode("utf-8")


def _failure(exc: Exception) -> tuple[HTTPStatus, list[tuple[str, str]], bytes]:
    from botocore.exceptions import ClientError, EndpointConnectionError

    if isinstance(exc, EndpointConnectionError):
        return _text(HTTPStatus.BAD_GATEWAY, f"Step Functions does not answer: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return _text(HTTPStatus.BAD_GATEWAY, f"Step Functions said {error.get('Code')}: {error.get('Message')}")
    traceback.print_exc()
    return _text(HTTPStatus.INTERNAL_SERVER_ERROR, f"console error: {type(exc).__name__}: {exc}")
