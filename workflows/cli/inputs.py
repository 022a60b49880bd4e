"""JSON given on the command line, as text or @file: `--input` of `fleet run`, `--task-output` of
`fleet task success`. Read with a size limit (`@/dev/zero` is refused, not read forever), parsed
strictly (no NaN), and every problem one line."""

from __future__ import annotations

from typing import Any

from fleet_domain.rules.requests import nesting_exceeds
from workflows.cli.errors import UsageError

# Step Functions takes at most 256 KB of input or task output; JSON with whitespace may be larger
# as written, so a file may be this big before it is refused unread.
MAX_FILE_BYTES = 4 * 1024 * 1024
# Arrays and objects nested deeper than this are refused: a fixed rule, not Python's recursion
# limit (which a library may raise; the engine's JSONata does).
MAX_DEPTH = 512

_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null"}


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def read_text(text: str, option: str) -> str:
    """The argument's text, or the content of the @file it names."""
    if not text.startswith("@"):
        return text
    path = text[1:]
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {option} file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{option} file {path} is over {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option} file {path} is not UTF-8 text (byte {exc.start})") from None


def parse_json(text: str, what: str) -> Any:
    """JSON text as its value; UsageError naming `what` for anything that is not JSON."""
    import json

    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # NaN or Infinity, or a number too long for Python to convert
        raise UsageError(f"{what} is not valid JSON: {str(exc).split(';')[0]}") from None
    except RecursionError:
        raise UsageError(f"{what} is not valid JSON: nested too deeply") from None
    if nesting_exceeds(value, MAX_DEPTH):
        raise UsageError(f"{what} is not valid JSON here: nested deeper than {MAX_DEPTH} levels")
    return value




def read_json_file(path: str, option: str) -> Any:
    """The JSON value in a file named by an option (`--faults`, `--prices`, `--mock-config`)."""
    return parse_json(read_text(f"@{path}", option), f"{option} file {path}")


def read_json(text: str, option: str, max_bytes: int) -> Any:
    """Any JSON value from text or @file, at most max_bytes once compact."""
    import json

    value = parse_json(read_text(text, option), option)
    try:
        size = len(json.dumps(value, separators=(",", ":")).encode())
    except (RecursionError, ValueError):
        raise UsageError(f"{option} is not valid JSON: nested too deeply") from None
    if size > max_bytes:
        raise UsageError(f"{option} is {size} bytes; Step Functions accepts at most {max_bytes}")
    return value


def read_json_object(text: str, option: str, max_bytes: int) -> dict[str, Any]:
    value = read_json(text, option, max_bytes)
    if not isinstance(value, dict):
        raise UsageError(f"{option} must be a JSON object, got {_JSON_TYPES.get(type(value), 'something else')}")
    return value


# --- argparse types: a bad value is argparse's one-line error -----------------------------------


def seconds(text: str) -> float:
    """A duration in seconds: a finite number, 0 to a day."""
    return _in_range(text, float, 0, 86_400, "a number of seconds")


def port(text: str) -> int:
    """A TCP port: 1 to 65535, or 0 for any free one."""
    return int(_in_range(text, int, 0, 65535, "a port number"))


def _in_range(text: str, convert: type[int] | type[float], low: float, high: float, what: str) -> float:
    import argparse
    import math

    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g}, got {text!r}")
    return value
