"""How a local answer is compared with AWS's recorded one (the same rules as the measuring script the recorded data was copied from,
`conformance/run.py` of the shared set, so the suite and that script agree on what passes).

Compared per execution: final status, output (or error and cause), and the sequence of history event
types, the events inside a Parallel or Map state compared as a multiset (branches and iterations
interleave). ARNs, account, region, names, ids and timestamps are normalised as LocalStack's snapshot
transformers normalised AWS's answers when they were recorded (`transformers` in each case).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

TOKEN = re.compile(r"(fidtok\d{4}|fidexec\d+)")
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")
REGION_START = {"ParallelStateStarted", "MapStateStarted"}
REGION_END = {"ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted", "MapStateSucceeded",
              "MapStateFailed", "MapStateAborted"}
# Values the snapshot fixtures blanked by key.
BLANKED_KEYS = {"date", "x-amzn-requestid", "x-amz-crc32", "x-amzn-trace-id", "requestid", "startdate", "stopdate",
                "creationdate", "timestamp"}
STACK_FILE = re.compile(r'File "[^"]*", line')


def rename_tokens(value: Any, suffix: str) -> Any:
    """Every `fidtok####`/`fidexec#` name the recording uses gets this run's suffix."""
    if isinstance(value, str):
        return TOKEN.sub(lambda m: m.group(1) + "r" + suffix, value)
    if isinstance(value, list):
        return [rename_tokens(v, suffix) for v in value]
    if isinstance(value, dict):
        return {rename_tokens(k, suffix): rename_tokens(v, suffix) for k, v in value.items()}
    return value


def substitute(value: Any, subs: dict[str, str]) -> Any:
    if not subs:
        return value
    if isinstance(value, str):
        for old, new in subs.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [substitute(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, subs) for k, v in value.items()}
    return value


def parse_nested(value: Any) -> Any:
    """JSON text that is an object or array is compared as JSON (as the snapshot stores it)."""
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("{", "["):
            try:
                return parse_nested(json.loads(s))
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        return [parse_nested(v) for v in value]
    if isinstance(value, dict):
        return {k: parse_nested(v) for k, v in value.items()}
    return value


class Normaliser:
    """What the recording's transformers did to AWS's answers, done to the local cloud's."""

    def __init__(self, transformers: list[dict[str, Any]]):
        self.regexes: list[tuple[re.Pattern[str], str]] = []
        self.blank_keys = set(BLANKED_KEYS)
        for t in transformers:
            if t["kind"] == "regex" and t.get("regex"):
                try:
                    self.regexes.append((re.compile(t["regex"]), t["replacement"]))
                except re.error:
                    self.regexes.append((re.compile(re.escape(t["regex"])), t["replacement"]))
            elif t["kind"] == "key_value" and t.get("key"):
                self.blank_keys.add(t["key"].lower())
            elif t["kind"] == "jsonpath":
                last = re.findall(r"[A-Za-z0-9_-]+", t["jsonpath"])
                if last:
                    self.blank_keys.add(last[-1].lower())

    def text(self, s: str) -> str:
        for rx, repl in self.regexes:
            s = rx.sub(repl, s)
        s = s.replace("123456789012", "111111111111")
        s = re.sub(r"arn:aws:", "arn:<partition>:", s)
        return s.replace("us-east-1", "<region>")

    def value(self, v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str):
            return self.text(v)
        return json.loads(self.text(json.dumps(v)))


def wildcard_match(expected: str, got: str) -> bool:
    if expected == got:
        return True
    if not PLACEHOLDER.search(expected):
        return False
    rx = ".*?".join(re.escape(p) for p in PLACEHOLDER.split(expected))
    return re.fullmatch(rx, got, re.S) is not None


def short(v: Any, n: int = 160) -> str:
    s = json.dumps(v, sort_keys=True) if not isinstance(v, str) else json.dumps(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def diff_values(expected: Any, got: Any, path: str, blank: set[str], out: list[str], key: str = "") -> None:
    if len(out) > 12:
        return
    if key and key.lower() in blank and expected is not None and got is not None:
        return
    if isinstance(expected, str) and key and expected.lower() in (key.lower(), "date", "datetime", "timestamp") \
            and got is not None and not isinstance(got, dict | list):
        return  # a value the recording blanked by its key
    if isinstance(expected, dict) and isinstance(got, dict):
        for k in expected:
            if k not in got:
                out.append(f"{path}.{k}: missing (expected {short(expected[k])})")
            else:
                diff_values(expected[k], got[k], f"{path}.{k}", blank, out, k)
        for k in got:
            if k not in expected:
                out.append(f"{path}.{k}: unexpected (got {short(got[k])})")
        return
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) == 1 and isinstance(expected[0], str) and key and expected[0].lower() == key.lower():
            return
        if len(expected) != len(got):
            out.append(f"{path}: expected {len(expected)} items {short(expected)}, got {len(got)} {short(got)}")
            return
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            diff_values(e, g, f"{path}[{i}]", blank, out, key)
        return
    if isinstance(expected, str) and isinstance(got, str):
        if key == "stackTrace" or path.endswith("]") and ".stackTrace[" in path:
            # A Lambda stack trace names the handler's file: /var/task/handler.py on AWS.
            expected, got = STACK_FILE.sub('File "F", line', expected), STACK_FILE.sub('File "F", line', got)
        if not wildcard_match(expected, got):
            out.append(f"{path}: expected {short(expected)}, got {short(got)}")
        return
    if isinstance(expected, str) and not isinstance(got, str):
        try:  # a scalar output recorded as its JSON text
            if json.loads(expected) == got:
                return
        except ValueError:
            pass
    numbers = isinstance(expected, int | float) and isinstance(got, int | float) and not isinstance(got, bool)
    if expected != got or (type(expected) is not type(got) and not numbers):
        out.append(f"{path}: expected {short(expected)}, got {short(got)}")


def canonical_types(types: list[str], closers: set[str] = REGION_END) -> list[str]:
    """Event types, with the events inside each Parallel/Map state sorted (branches interleave)."""
    out: list[str] = []
    starts: list[int] = []
    for t in types:
        if t in REGION_START:
            out.append(t)
            starts.append(len(out))
        elif t in closers and starts:
            s = starts.pop()
            out[s:] = sorted(out[s:])
            out.append(t)
        else:
            out.append(t)
    return out


def types_diff(expected: list[str], got: list[str], closers: set[str] = REGION_END) -> str:
    e, g = canonical_types(expected, closers), canonical_types(got, closers)
    if e == g:
        return ""
    sm = difflib.SequenceMatcher(a=e, b=g, autojunk=False)
    parts = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "delete":
            parts.append(f"missing {e[i1:i2]} after #{i1}")
        elif op == "insert":
            parts.append(f"extra {g[j1:j2]} after #{i1}")
        elif op == "replace":
            parts.append(f"expected {e[i1:i2]} got {g[j1:j2]} at #{i1}")
    return f"{len(e)} vs {len(g)} events: " + "; ".join(parts)[:600]


def compare(exp: dict[str, Any], got: dict[str, Any], norm: Normaliser) -> list[str]:
    """Every way the local execution `got` differs from AWS's recording `exp` (empty: it matches)."""
    out: list[str] = []
    if got.get("describe_error"):
        out.append(f"api: DescribeExecution failed: {got['describe_error']}")
    if got.get("status") in ("NOT_CREATED", "API_ERROR"):
        return [f"status: expected {exp.get('status', 'an execution')}, got {got['status']}: "
                f"{got.get('error')}: {short(got.get('cause'), 240)}"]
    if "status" in exp and exp["status"] != got["status"]:
        extra = ""
        if got["status"] == "FAILED":
            extra = f" ({got.get('error')}: {short(got.get('cause'), 200)})"
        elif exp["status"] == "FAILED":
            extra = f" (expected {exp.get('error')}: {short(exp.get('cause'), 200)})"
        out.append(f"status: expected {exp['status']}, got {got['status']}{extra}")
    if "output" in exp and exp.get("status", "SUCCEEDED") == "SUCCEEDED" and got["status"] == "SUCCEEDED":
        diffs: list[str] = []
        diff_values(parse_nested(exp["output"]), parse_nested(norm.value(got.get("output"))), "$", norm.blank_keys, diffs)
        out += [f"output: {d}" for d in diffs]
    for field in ("error", "cause"):
        if field in exp and exp.get("status") == got["status"] and got["status"] != "SUCCEEDED":
            diffs = []
            diff_values(parse_nested(exp[field]), parse_nested(norm.value(got.get(field))), field, norm.blank_keys, diffs)
            out += [f"{field}: {d}" for d in diffs]
    if "event_types" in exp and got.get("event_types") is not None:
        got_types: list[str] = got["event_types"]
        closers = REGION_END
        if exp.get("parallel_events_rewritten"):
            # The recording's parallel transformer dropped each ParallelStateSucceeded (and, with nested
            # Parallels, more): drop it here too and close regions on ParallelStateExited; a recording that
            # lost more than that is not compared.
            n_parallel = sum(1 for t in got_types if t == "ParallelStateSucceeded")
            if exp.get("events_lost", 0) != n_parallel:
                return out
            got_types = [t for i, t in enumerate(got_types) if not (
                t == "ParallelStateSucceeded" and got_types[i + 1:i + 2] == ["ParallelStateExited"])]
            closers = (REGION_END - {"ParallelStateSucceeded"}) | {"ParallelStateExited"}
        d = types_diff(exp["event_types"], got_types, closers)
        if d:
            out.append(f"history: {d}")
    return out
