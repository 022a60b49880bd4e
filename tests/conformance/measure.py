"""Runs every recorded case once, outside pytest, and reports the pass rate by category.

    .venv/bin/python -m tests.conformance.measure                  # the figure, by category
    .venv/bin/python -m tests.conformance.measure -v               # and each failing case's divergences
    .venv/bin/python -m tests.conformance.measure --write-expected # rewrite expected_failures.py
    .venv/bin/python -m tests.conformance.measure --write-readme   # rewrite the figure in README.md

The figure in README.md is written here, from a run (tests/conformance/test_readme_figure.py fails
when it no longer matches expected_failures.py).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from tests.conformance import expected_failures, runner

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FIGURE_START = "<!-- conformance-figure:start (written by python -m tests.conformance.measure --write-readme) -->"
FIGURE_END = "<!-- conformance-figure:end -->"

# A failing case's reason: the first rule whose pattern is in the case's definition (d:) or its
# divergence (x:) names it. Order matters: the most specific first.
JSONATA = "JSONata and variables: moto 5.2.5 ships no JSONata evaluator (States.Runtime: 'NoneType' object is not callable)"
REASONS: list[tuple[str, str]] = [
    ("x:'NoneType' object is not callable", JSONATA),
    ("x:Map state input must be an array but was", "a Map's input that is not an array: the cause names a Python type, not the value"),
    ("x:The Timestamp", "a JSONata Wait Timestamp that is not ISO-8601 fails with States.Runtime, not States.QueryEvaluationError"),
    ('d:"(InputPath|OutputPath)": "\\$[a-zA-Z]',
     "a variable a state assigns is already visible to its own OutputPath (on AWS from the next state)"),
    ("x:JSONDecodeError", "an intrinsic function with variable arguments fails (JSONDecodeError)"),
    ("x:extra \\['EvaluationFailed'\\]", "a JSONata Items that returns a function: AWS records no EvaluationFailed event"),
    ("x:start_sync_execution", "StartSyncExecution for EXPRESS machines is not implemented"),
    ("x:MUST NOT begin with", "a States.* error leaving a Map iteration or Parallel branch becomes States.Runtime"),
    ("x:requestId", "Lambda's error payload lacks requestId and AWS's format"),
    ("x:ConsumedCapacity", "aws-sdk:dynamodb answers ConsumedCapacity that AWS does not return unasked"),
    ("x:x-amzn-requestid: missing", "DynamoDB's getItem names its request id header in lower case on AWS"),
    ("x:SdkHttpMetadata: missing|SdkResponseMetadata: missing", "service integration results lack SdkHttpMetadata and SdkResponseMetadata"),
    ("x:datetime is not JSON serializable", "a result holding a timestamp (startExecution, aws-sdk) cannot be serialised"),
    ("d:aws-sdk:sfn", "aws-sdk:sfn integrations fail (KeyError) instead of AWS's error names"),
    ("x:Invalid path '\\$.no.such.result.path'", "an invalid ResultPath's cause is worded differently from AWS's"),
    ("x:Sandbox.Timedout|expected TIMED_OUT",
     "virtual clock: a function sleeping past a timeout returns before the timeout fires (passes on wall time)"),
    ("x:Content-Length", "the recorded Content-Length counts AWS's resource names; the suite names them per run"),
    ("x:extra \\['ExecutionFailed'\\]", "an invalid TimeoutSecondsPath: AWS's history differs (no ExecutionFailed recorded)"),
    ("x:Name or service not known", "a queue URL that does not exist: AWS fails to reach the host, the local SQS answers its own error"),
    ("x:SecretString", "aws-sdk:secretsmanager: the secret is not created as on AWS"),
    ("x:sN.NoSuchBucket|s3.NoSuchBucket", "aws-sdk error names: the service prefix is not AWS's (S3.NoSuchBucketException)"),
    ("x:object of type 'NoneType' has no len", "sqs:sendMessage without a MessageBody fails with a TypeError, not SQS's error"),
]


def classify(case: dict[str, Any], divergences: list[str]) -> str:
    text = "\n".join(sm["definition"] for sm in case.get("state_machines", []))
    found = "\n".join(divergences)
    for rule, reason in REASONS:
        kind, pattern = rule.split(":", 1)
        if re.search(pattern, text if kind == "d" else found):
            return reason
    return "differs from AWS: " + found[:100]


def figure(results: dict[str, bool], cases: dict[str, dict[str, Any]]) -> list[str]:
    by_cat: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for case_id, ok in results.items():
        by_cat[cases[case_id]["category"]]["pass" if ok else "fail"] += 1
    passed, total = sum(results.values()), len(results)
    not_runnable = sum(1 for c in cases.values() if not runner.runnable(c))
    lines = [f"**{passed} of {total} runnable recorded cases match AWS ({100 * passed / total:.0f}%)**; "
             f"{not_runnable} more were recorded without their data and are not run.", "",
             "| category | pass | of |", "|---|---:|---:|"]
    for cat in sorted(by_cat):
        c = by_cat[cat]
        lines.append(f"| {cat} | {c['pass']} | {c['pass'] + c['fail']} |")
    return lines


def figure_from_expectations() -> list[str]:
    """The figure the suite implies: every runnable case passes except those listed as expected
    failures; then what still differs, by reason."""
    cases = {c["id"]: c for c in runner.load_cases()}
    results = {cid: cid not in expected_failures.EXPECTED for cid, c in cases.items() if runner.runnable(c)}
    lines = figure(results, cases)
    lines += ["", "What still differs from AWS, and in how many cases:", ""]
    for reason, ids in sorted(expected_failures.GROUPS.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"- {reason} ({len(ids)})")
    return lines


def write_readme() -> None:
    text = README.read_text()
    start, end = text.index(FIGURE_START), text.index(FIGURE_END)
    block = "\n".join([FIGURE_START, *figure_from_expectations(), FIGURE_END])
    README.write_text(text[:start] + block + text[end + len(FIGURE_END):])


def write_expected(failures: dict[str, str]) -> None:
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for case_id, reason in failures.items():
        groups[reason].append(case_id)
    path = Path(expected_failures.__file__)
    text = path.read_text()
    body = ["GROUPS: dict[str, list[str]] = {"]
    for reason in sorted(groups, key=lambda r: (-len(groups[r]), r)):
        if len(json.dumps(reason)) > 128:
            raise ValueError(f"a reason longer than a line: {reason!r}")
        body.append(f"    {json.dumps(reason)}: [")
        body += [f"        {json.dumps(cid)}," for cid in sorted(groups[reason])]
        body.append("    ],")
    body.append("}")
    text = re.sub(r"GROUPS: dict\[str, list\[str\]\] = \{(?:\}|.*?\n\})", lambda _m: "\n".join(body), text, flags=re.S)
    path.write_text(text)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], help="cases whose id contains this (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--write-expected", action="store_true")
    ap.add_argument("--write-readme", action="store_true", help="only rewrite README.md's figure from expected_failures.py")
    args = ap.parse_args(argv)
    if args.write_readme:
        write_readme()
        print("\n".join(figure_from_expectations()))
        return 0
    from workflows.local.cloud import LocalCloud

    all_cases = runner.load_cases()
    cases = [c for c in all_cases if runner.runnable(c) and (not args.only or any(o in c["id"] for o in args.only))]
    results: dict[str, bool] = {}
    failures: dict[str, str] = {}
    started = time.monotonic()
    with LocalCloud(virtual_time=True) as cloud, runner.case_functions(cloud):
        for case in cases:
            outcome = runner.CaseRun(case, cloud).run()
            results[case["id"]] = outcome.passed
            if not outcome.passed:
                failures[case["id"]] = classify(case, outcome.divergences)
            print(f"{'PASS' if outcome.passed else 'FAIL'} {case['id']}", flush=True)
            if args.verbose:
                for d in outcome.divergences[:6]:
                    print(f"    {d[:400]}")
    print("\n".join(figure(results, {c["id"]: c for c in all_cases})))
    print(f"{sum(results.values())} passed of {len(results)} in {time.monotonic() - started:.0f} s")
    if args.write_expected:
        if args.only:
            print("--write-expected needs a run of every case (no --only)", file=sys.stderr)
            return 2
        write_expected(failures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
