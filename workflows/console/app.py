"""The local console: executions (live), the fleet, the DLQ, the functions, and each execution's
graph with its actions. A WSGI app.

    app = console_app(sfn, clients=cloud.client)   # any Step Functions client; `clients` hands out the others

Mount it for the paths starting with /console. Either way of mounting works: the full path in
PATH_INFO (SCRIPT_NAME empty), or SCRIPT_NAME set to the mount point and the rest in PATH_INFO
(as werkzeug's DispatcherMiddleware does); links are made under whichever prefix it was reached at.

    GET  /console                         executions: filters (state machine, status, name, time), outcome,
                                          start an execution; updated live from /console/api/stream
    GET  /console/fleet | /dlq | /functions   cars by status with their ride or job; failures (redrive, sweep);
                                          each function's Lambda metrics (invocations, errors, throttles,
                                          duration p50/p99, peak concurrency, cold starts), invocations and logs
    GET  /console/executions/<urlencoded arn>         the execution's graph, timeline, events; stop, answer
                                                       its task token, start again
    GET  /console/executions/<urlencoded arn>/status  {"status", "events"} (what a running page polls)
    GET  /console/api/executions | fleet | dlq | functions   the views' data (JSON)
    GET  /console/api/stream              server-sent events: `executions` whenever the list changes
    POST /console/api/start | stop | task | dlq/redrive | dlq/sweep   the actions (same origin and the console's token)
    GET  /console/static/...              elk.js (from node_modules), console.js, console.css

The fleet, DLQ and functions views need `clients`; without it they say so.
"""

from __future__ import annotations

import json
import secrets
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from workflows.console import actions, pages, views
from workflows.trace import html
from workflows.trace.model import load_trace

PREFIX = "/console"
STATIC = Path(__file__).resolve().parent / "static"
MAX_EXECUTIONS = views.MAX_EXECUTIONS

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
Response = tuple[HTTPStatus, list[tuple[str, str]], bytes]

_PAGE_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src data:; "
             "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_POSTS = {"/api/start", "/api/stop", "/api/task", "/api/dlq/redrive", "/api/dlq/sweep"}


def console_app(sfn: Any, *, clients: Callable[[str], Any] | None = None, prefix: str = PREFIX, refresh_s: int = 2,
                poll_interval_ms: int = 1000, stream_s: float = 25.0, token: str | None = None) -> WsgiApp:
    """A WSGI app serving the console from this Step Functions client (and `clients` for the others)."""
    return _Console(sfn, clients, prefix.rstrip("/"), refresh_s, poll_interval_ms, stream_s,
                    token or secrets.token_urlsafe(32))


class _Console:
    def __init__(self, sfn: Any, clients: Callable[[str], Any] | None, prefix: str, refresh_s: int,
                 poll_interval_ms: int, stream_s: float, token: str):
        self.sfn = sfn
        self.clients = clients
        self.prefix = prefix
        self.refresh_s = refresh_s
        self.poll_interval_ms = poll_interval_ms
        self.stream_s = stream_s
        self.token = token
        self.outcomes = views.Outcomes(sfn)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        base, rest = self._route(environ)
        if rest is None:
            status, headers, body = _text(HTTPStatus.NOT_FOUND, f"not a console path (the console is at {self.prefix})")
        elif rest in _POSTS:
            if method != "POST":
                status, headers, body = _text(HTTPStatus.METHOD_NOT_ALLOWED, f"{rest} takes POST")
                headers.append(("Allow", "POST"))
            else:
                status, headers, body = self._act(rest, environ)
        elif method not in ("GET", "HEAD"):
            status, headers, body = _text(HTTPStatus.METHOD_NOT_ALLOWED, "this console page is read-only")
            headers.append(("Allow", "GET, HEAD"))
        elif rest == "/api/stream" and method == "GET":
            headers = [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-store"),
                       ("X-Content-Type-Options", "nosniff")]
            start_response("200 OK", headers)
            return self._stream()
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

    def _dispatch(self, base: str, rest: str) -> Response:
        if rest in ("", "/"):
            return self._list(base)
        if rest in ("/fleet", "/dlq", "/functions"):
            view = rest[1:]
            return _html(pages.shell(view, base, self.token, None, view.upper() if view == "dlq" else view.title()))
        if rest.startswith("/api/"):
            return self._api(rest[len("/api/"):])
        if rest.startswith("/static/"):
            return self._static(rest[len("/static/"):])
        if rest.startswith("/executions/"):
            arn = rest[len("/executions/"):]
            if arn.endswith("/status"):
                return self._status(arn[: -len("/status")])
            return self._execution(base, arn.rstrip("/"))
        return _text(HTTPStatus.NOT_FOUND, f"no such console page: {base}{rest}")

    # --- pages ----------------------------------------------------------------------------------

    def _list(self, base: str) -> Response:
        data = views.executions(self.sfn, self.outcomes)
        table = pages.executions_table(data["executions"], lambda arn: html.execution_path(base, arn))
        return _html(pages.shell("executions", base, self.token, data, "Executions", table))

    def _execution(self, base: str, arn: str) -> Response:
        from botocore.exceptions import ClientError

        from workflows.trace.tokens import token_waits

        try:
            trace = load_trace(self.sfn, arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ExecutionDoesNotExist", "InvalidArn", "StateMachineDoesNotExist", "ResourceNotFound"):
                return _text(HTTPStatus.NOT_FOUND, f"no execution {arn}: {code}")
            raise
        page = html.render_page(
            trace, script_url=f"{base}/static/elk.js", back_url=f"{base}/",
            poll_url=html.execution_path(base, arn) + "/status", poll_interval_ms=self.poll_interval_ms,
            actions_html=pages.execution_actions(base, self.token, trace, token_waits(trace)))
        return _html(page)

    def _status(self, arn: str) -> Response:
        from botocore.exceptions import ClientError

        try:
            desc = self.sfn.describe_execution(executionArn=arn)
            events = 0
            for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                events += len(page["events"])
        except ClientError as exc:
            return _text(HTTPStatus.NOT_FOUND, f"no execution {arn}: {exc.response.get('Error', {}).get('Code')}")
        return _json({"status": desc["status"], "events": events})

    def _static(self, name: str) -> Response:
        if name == "elk.js":
            version, path = html.layout_library()
            return HTTPStatus.OK, [("Content-Type", "text/javascript; charset=utf-8"),
                                   ("Cache-Control", "max-age=3600"), ("ETag", f'"elkjs-{version}"')], Path(path).read_bytes()
        kinds = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
        if name not in kinds:
            return _text(HTTPStatus.NOT_FOUND, f"no such console file: {name}")
        return HTTPStatus.OK, [("Content-Type", kinds[name]), ("Cache-Control", "no-cache")], (STATIC / name).read_bytes()

    # --- data -----------------------------------------------------------------------------------

    def _api(self, what: str) -> Response:
        if what == "executions":
            return _json(views.executions(self.sfn, self.outcomes))
        if what in ("fleet", "dlq", "functions"):
            if self.clients is None:
                return _text(HTTPStatus.NOT_IMPLEMENTED, f"the {what} view needs the local cloud's clients")
            if what == "fleet":
                return _json(views.fleet(self.clients))
            if what == "dlq":
                return _json(views.dlq(self.clients, self._dlq_url()))
            listed = views.executions(self.sfn, self.outcomes)["executions"]
            return _json(views.functions(self.sfn, self.clients, listed))
        return _text(HTTPStatus.NOT_FOUND, f"no such console data: {what}")

    def _dlq_url(self) -> str:
        from workflows.definitions import catalog

        queue = next(q for q in catalog.QUEUES if q.logical_id == "Dlq")
        assert self.clients is not None
        return str(self.clients("sqs").get_queue_url(QueueName=queue.queue_name)["QueueUrl"])

    def _stream(self) -> Iterator[bytes]:
        """`executions` events while the list changes, for `stream_s` seconds; the browser's
        EventSource then reconnects (after `retry`), so a stream never holds a thread for long."""
        yield b"retry: 1000\n\n"
        deadline = time.monotonic() + self.stream_s
        last = None
        while time.monotonic() < deadline:
            try:
                data = json.dumps(views.executions(self.sfn, self.outcomes), default=str)
            except Exception as exc:  # noqa: BLE001 - said to the page, then the stream ends
                yield f"event: problem\ndata: {json.dumps(str(exc))}\n\n".encode()
                return
            if data != last:
                last = data
                yield f"event: executions\ndata: {data}\n\n".encode()
            else:
                yield b": nothing new\n\n"
            time.sleep(self.refresh_s / 2)

    # --- actions --------------------------------------------------------------------------------

    def _act(self, rest: str, environ: dict) -> Response:
        from botocore.exceptions import ClientError

        try:
            body = actions.check_request(environ, self.token)
            if rest == "/api/start":
                answer = actions.start(self.sfn, body)
            elif rest == "/api/stop":
                answer = actions.stop(self.sfn, body)
            elif rest == "/api/task":
                answer = actions.task(self.sfn, body, lambda arn: load_trace(self.sfn, arn))
            else:
                if self.clients is None:
                    raise actions.Refused(501, "the DLQ needs the local cloud's clients")
                failures = views.dead_letters(self.clients, self._dlq_url())
                answer = actions.sweep(failures) if rest == "/api/dlq/sweep" else actions.redrive(self.sfn, failures, body)
        except actions.Refused as exc:
            return _json({"message": exc.message}, HTTPStatus(exc.status))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return _json({"message": f"{error.get('Code')}: {error.get('Message')}"}, HTTPStatus.CONFLICT
                         if error.get("Code") in ("ExecutionAlreadyExists", "ExecutionDoesNotExist", "TaskDoesNotExist",
                                                  "TaskTimedOut", "InvalidToken") else HTTPStatus.BAD_REQUEST)
        return _json(answer)


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    return status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], \
        json.dumps(value, default=str).encode()


def _html(page: str) -> Response:
    return HTTPStatus.OK, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                           ("Content-Security-Policy", _PAGE_CSP)], page.encode("utf-8")


def _text(status: HTTPStatus, message: str) -> Response:
    return status, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")], \
        (message + "\n").encode("utf-8")


def _failure(exc: Exception) -> Response:
    from botocore.exceptions import ClientError, EndpointConnectionError

    if isinstance(exc, EndpointConnectionError):
        return _text(HTTPStatus.BAD_GATEWAY, f"Step Functions does not answer: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return _text(HTTPStatus.BAD_GATEWAY, f"Step Functions said {error.get('Code')}: {error.get('Message')}")
    traceback.print_exc()
    return _text(HTTPStatus.INTERNAL_SERVER_ERROR, f"console error: {type(exc).__name__}: {exc}")
