"""`fleet load --rate R --duration S [--mix register=..,dispatch=..,maintenance=..] [--api-url URL]`:
load a running `fleet up` over its REST API and report what happened (workflows/driver.py).

Exit codes: 0 every request answered (no 5xx, no transport error) and every execution ended
named; 1 otherwise (the report says which); 2 bad arguments or a non-loopback URL without
--allow-remote; 4 no API answering at the URL.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workflows.cli import render
from workflows.cli.errors import Exit, Unavailable, UsageError
from workflows.load import driver, stats

DEFAULT_API_URL = "http://127.0.0.1:8080"
MAX_RATE = 1000.0
MAX_DURATION_S = 3600.0
MAX_REQUESTS = 100_000


def register(sub: Any) -> None:
    p = sub.add_parser("load", help="drive a running `fleet up` over its REST API and report throughput, "
                                    "latency and every execution's outcome")
    p.add_argument("--rate", type=float, required=True, help="requests per second (fixed arrival rate)")
    p.add_argument("--duration", type=float, required=True, help="seconds of arrivals")
    p.add_argument("--mix", default=",".join(f"{k}={v:g}" for k, v in driver.DEFAULT_MIX.items()),
                   help="workflow weights, e.g. register=6,dispatch=3,maintenance=1 (default %(default)s)")
    p.add_argument("--api-url", default=DEFAULT_API_URL, help="the REST API of `fleet up` (default %(default)s)")
    p.add_argument("--allow-remote", action="store_true", help="allow an --api-url that is not on this machine")
    p.add_argument("--wait", type=float, default=60.0,
                   help="seconds to follow executions after the last request (default %(default)s)")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight at most (default %(default)s)")
    p.add_argument("--seed", type=int, help="seed for the generated cars and rides (default: a new run each time)")
    p.add_argument("--report-json", metavar="FILE", help="also write the report as JSON to FILE")
    render.add_output_option(p)
    p.set_defaults(handler=cmd_load)


def plan_from(args: argparse.Namespace) -> driver.LoadPlan:

    if not (0 < args.rate <= MAX_RATE):
        raise UsageError(f"--rate must be above 0 and at most {MAX_RATE:g} requests per second, got {args.rate:g}")
    if not (0 < args.duration <= MAX_DURATION_S):
        raise UsageError(f"--duration must be above 0 and at most {MAX_DURATION_S:g} seconds, got {args.duration:g}")
    if args.rate * args.duration > MAX_REQUESTS:
        raise UsageError(f"--rate x --duration is {args.rate * args.duration:g} requests; at most {MAX_REQUESTS}")
    if not (0 <= args.wait <= MAX_DURATION_S):
        raise UsageError(f"--wait must be 0 to {MAX_DURATION_S:g} seconds, got {args.wait:g}")
    if not (1 <= args.concurrency <= 256):
        raise UsageError(f"--concurrency must be 1 to 256, got {args.concurrency}")
    try:
        mix = driver.parse_mix(args.mix)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_api_url(args.api_url, args.allow_remote)
    return driver.LoadPlan(api_url=args.api_url.rstrip("/"), rate=args.rate, duration_s=args.duration, mix=mix,
                         wait_s=args.wait, concurrency=args.concurrency, seed=args.seed)


def check_api_url(url: str, allow_remote: bool) -> None:
    """Load stays on this machine unless asked: every address the host resolves to is loopback."""
    from workflows.targets.target import TargetError, check_endpoint_url

    try:
        check_endpoint_url(url)
    except TargetError as exc:
        raise UsageError(f"--api-url: {exc}") from None
    parts = urlsplit(url)
    if allow_remote:
        return
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, parts.port or 80,
                                                                     proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        raise UsageError(f"--api-url host {parts.hostname!r} does not resolve") from None
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if remote:
        raise UsageError(f"--api-url {url} is not on this machine ({', '.join(remote)}): "
                         "fleet load sends to loopback only; pass --allow-remote to load another host")


def cmd_load(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


    plan = plan_from(args)
    api = driver.Api(plan.api_url, plan.request_timeout_s)
    health = api.call("GET", "/health")
    if health.status != 200:
        why = health.error or f"HTTP {health.status}"
        raise Unavailable(f"no fleet API answers at {plan.api_url} ({why}): start one with `fleet up --api-port ...`")

    progress = Progress(TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=False)
    requests = progress.add_task("requests", total=plan.total)
    executions = progress.add_task("executions", total=0)

    def on_progress(event: str, n: int) -> None:
        if event == "sent":
            progress.advance(requests, n)
        elif event == "started":
            progress.update(executions, total=(progress.tasks[executions].total or 0) + n)
        elif event == "ended":
            progress.advance(executions, n)

    with progress:
        report = driver.LoadRun(plan, api, on_progress).run()
    if render.wants_json(args):
        render.print_json(report.as_dict())
    else:
        render_report(report)
    if args.report_json:
        try:
            Path(args.report_json).write_text(json.dumps(report.as_dict(), indent=2, default=str))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot write {args.report_json}: {getattr(exc, 'strerror', None) or exc}") from None
    return Exit.OK if report.ok else Exit.NOT_SUCCEEDED


def render_report(report: driver.LoadReport) -> None:
    plan, req, ex = report.plan, report.requests, report.executions
    mix = " ".join(f"{k}={v:g}" for k, v in plan["mix"].items())
    out = render.console
    out.print(f"load       {plan['api_url']}  {plan['rate']:g}/s for {plan['duration_s']:g}s  (mix {mix}; "
              f"run {plan['run_id']})", markup=False)
    statuses = ", ".join(f"{k} x{v}" for k, v in req["by_status"].items()) or "none"
    out.print(f"requests   {req['sent']} sent of {req['planned']} planned: {statuses}; "
              f"{req['server_errors']} 5xx, {req['transport_errors']} without an answer; "
              f"late p99 {req['late_p99_ms']:g} ms", markup=False)
    for what, n in req["skipped"].items():
        out.print(f"skipped    {n} {what}", markup=False)
    for workflow, why in report.missing_routes.items():
        out.print(f"[yellow]missing    {workflow}: {why} (this API has no such route yet)[/]")
    tp = report.throughput
    out.print(f"throughput {tp['requests_per_s']:g} requests/s over {tp['sending_s']:g}s; "
              f"{tp['executions_ended_per_s']:g} executions ended/s (followed {tp['following_s']:g}s more)",
              markup=False)
    columns = ["", "n", "p50", "p90", "p95", "p99", "max"]
    counts = {**req["by_workflow"], "all": req["sent"]}
    render.table("request latency (ms)", columns,
                 [(w, counts.get(w, ""), *_row(v)) for w, v in report.latency_ms.items()])
    render.table("execution end to end (ms)", columns,
                 [("client: sent -> end seen", ex["started"] - ex["still_running"], *_row(report.end_to_end_ms["client"])),
                  ("server: start -> stop", ex["started"] - ex["still_running"], *_row(report.end_to_end_ms["server"]))])
    out.print(f"executions {ex['started']} started: {ex['succeeded']} succeeded, {ex['domain_errors']} user errors, "
              f"{ex['failed_in_dlq']} failed and in the DLQ, {ex['failed_not_in_dlq']} failed NOT in the DLQ, "
              f"{ex['stopped']} stopped, {ex['still_running']} still running", markup=False)
    render.table("outcomes", ["workflow", "outcome", "executions"],
                 [(w, label, n) for w, labels in report.outcomes.items() for label, n in sorted(labels.items())])
    if report.human_steps:
        out.print("driven     " + ", ".join(f"{k} x{v}" for k, v in sorted(report.human_steps.items())), markup=False)
    out.print(f"percentiles {stats.METHOD}", markup=False)
    verdict = "[green]ok[/]" if report.ok else "[red]NOT ok[/]: 5xx, unanswered requests, or executions not ended/lost"
    out.print(f"verdict    {verdict}")
    sys.stdout.flush()


def _row(values: dict[str, float | None]) -> list[str]:
    return ["" if values[k] is None else f"{values[k]:g}" for k in ("p50", "p90", "p95", "p99", "max")]
