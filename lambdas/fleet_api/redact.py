"""What the API says about an execution, without the internals of the code that ran it.

An execution's cause, and the error objects a Catch puts into its output (`{"Error", "Cause"}`),
carry a Lambda function's error payload: `errorType`, `errorMessage`, `requestId` and a
`stackTrace` of source lines with absolute file paths. Those are for operators (the DLQ, the
console, the function's logs), not for the API's clients: the stack trace is dropped and any file
path left in a message is cut to its file name. Everything else is kept as it was.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Where a Lambda error payload (it has an `errorType`) keeps its stack trace: Python's, Node's name.
TRACE_KEYS = ("stackTrace", "trace")
_TRACEBACK = "Traceback (most recent call last)"
# An absolute path to a source file (POSIX or Windows), kept to its last part.
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+)+[\\/]([\w.@+-]+\.(?:py|pyc|js|mjs|ts|java|jar))\b")
_FILE_LINE = re.compile(r'File "([^"]+)", line \d+(?:, in [^\s,]+)?')


def redacted(value: Any) -> Any:
    """`value` (an execution's input, output, error cause) with every stack trace taken out."""
    if isinstance(value, dict):
        lambda_error = "errorType" in value or "errorMessage" in value
        return {k: redacted(v) for k, v in value.items() if not (k in TRACE_KEYS and (lambda_error or k == "stackTrace"))}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    if isinstance(value, str):
        return _redacted_text(value)
    return value


def _redacted_text(text: str) -> str:
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and any(k in text for k in (*TRACE_KEYS, "File ", "/", "\\")):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            pass
        else:
            if isinstance(parsed, dict | list):
                return json.dumps(redacted(parsed), ensure_ascii=False)
    if _TRACEBACK in text:  # a formatted Python traceback inside a message: the message is what precedes it
        text = text.split(_TRACEBACK, 1)[0].rstrip() or "(stack trace omitted)"
    text = _FILE_LINE.sub(lambda m: f'{_base(m.group(1))}', text)
    return _PATH.sub(lambda m: m.group(1), text)


def _base(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]
