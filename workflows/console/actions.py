"""The console's actions: start an execution with an input, stop one, answer a task token
(success, failure, heartbeat), redrive failures and sweep the DLQ. Each is a POST of JSON that must come from
the console's own pages: the same origin (Origin / Sec-Fetch-Site, when the browser sends them)
and the console's token (X-Console-Token, given to its pages), so another site cannot make a
browser act (CSRF). Every refusal is one line, in `{"message"}`."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_BODY = 256 * 1024 + 4096  # an execution's input is at most 256 KB
TOKEN_HEADER = "HTTP_X_CONSOLE_TOKEN"


@dataclass
class Refused(Exception):
    status: int
    message: str


def check_request(environ: dict[str, Any], token: str) -> dict[str, Any]:
    """The request's JSON body, once it is known to come from the console's own page."""
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, f"refused: a request from another site ({site})")
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and origin != "null":
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        if urlsplit(origin).netloc.lower() != host.lower():
            raise Refused(403, f"refused: a request from another origin ({origin})")
    elif origin == "null":
        raise Refused(403, "refused: a request from an opaque origin")
    sent = environ.get(TOKEN_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), token.encode()):
        raise Refused(403, "refused: the console's token is missing or wrong (reload the page)")
    if (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower() != "application/json":
        raise Refused(415, "send application/json")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "Content-Length is not a number") from None
    if length > MAX_BODY:
        raise Refused(413, f"request body over {MAX_BODY} bytes")
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


def _required(body: dict[str, Any], key: str, limit: int = 2048) -> str:
    value = _text(body, key, False, limit)
    if value is None:
        raise Refused(400, f"{key} is required")
    return value


def _text(body: dict[str, Any], key: str, required: bool = False, limit: int = 2048) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise Refused(400, f"{key} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Refused(400, f"{key} must be a string of at most {limit} characters")
    return value


def _json_text(body: dict[str, Any], key: str, default: str) -> str:
    """A JSON document given as text (what the editor holds), checked to parse."""
    value = body.get(key, default)
    if not isinstance(value, str):
        value = json.dumps(value)
    try:
        json.loads(value)
    except ValueError as exc:
        raise Refused(400, f"{key} is not valid JSON: {exc}") from None
    return value


def start(sfn: Any, body: dict[str, Any]) -> dict[str, Any]:
    machine = _required(body, "stateMachineArn")
    kwargs: dict[str, Any] = {"stateMachineArn": machine, "input": _json_text(body, "input", "{}")}
    name = _text(body, "name", required=False, limit=80)
    if name:
        kwargs["name"] = name
    started = sfn.start_execution(**kwargs)
    return {"executionArn": started["executionArn"]}


def stop(sfn: Any, body: dict[str, Any]) -> dict[str, Any]:
    arn = _required(body, "executionArn")
    kwargs = {"executionArn": arn, "error": _text(body, "error", False, 256) or "StoppedFromConsole",
              "cause": _text(body, "cause", False, 32768) or "stopped from the console"}
    sfn.stop_execution(**kwargs)
    return {"executionArn": arn, "stopped": True}


def task(sfn: Any, body: dict[str, Any], load: Callable[[str], Any]) -> dict[str, Any]:
    """Answer the task token a waiting state holds: success (with an output), failure (error,
    cause) or heartbeat. The token is read from the execution's history (workflows/trace/tokens.py)."""
    from workflows.trace.tokens import token_waits

    arn = _required(body, "executionArn")
    action = body.get("action")
    if action not in ("success", "failure", "heartbeat"):
        raise Refused(400, "action must be success, failure or heartbeat")
    waits = token_waits(load(arn))
    state = _text(body, "state", required=False)
    chosen = [w for w in waits if state in (None, w.node_id, w.state)]
    if not chosen:
        raise Refused(409, f"{'state ' + state if state else 'the execution'} is not waiting for a task token")
    wait = chosen[0]
    if wait.token is None:
        raise Refused(409, f"{wait.state} waits, but its history does not show the token")
    if action == "success":
        sfn.send_task_success(taskToken=wait.token, output=_json_text(body, "output", "{}"))
    elif action == "failure":
        sfn.send_task_failure(taskToken=wait.token, error=_text(body, "error", False, 256) or "FailedFromConsole",
                              cause=_text(body, "cause", False, 32768) or "failed from the console")
    else:
        sfn.send_task_heartbeat(taskToken=wait.token)
    return {"executionArn": arn, "state": wait.state, "sent": action}


def redrive(sfn: Any, dlq: Any, body: dict[str, Any]) -> dict[str, Any]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and 0 < len(i) <= 128 for i in ids):
        raise Refused(400, "ids must be a list of failure ids")
    done = dlq.redrive(sfn, ids, dry_run=bool(body.get("dry_run")))
    return {"results": [r.as_dict() for r in done.results], "remaining": done.remaining}


def sweep(dlq: Any) -> dict[str, Any]:
    return dict(dlq.sweep().__dict__)
