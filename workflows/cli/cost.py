"""`fleet cost`: what the workflows cost on AWS per month, from what executions actually did.

    fleet cost                                  # a sample of each workflow on an in-process local cloud
    fleet cost --workflow register --per-month 1000000
    fleet cost --execution ARN [--endpoint-url URL]   # one execution's history, at `fleet up`'s endpoint
    fleet cost --no-free-tier --arch x86_64 --json
    fleet cost --cold-start-pct 5               # the share of invocations that start cold (INIT billed)

Standard against Express side by side, and Standard with a Lambda in place of each direct
service integration. The model is workflows/cost/model.py; the prices, dated, are
workflows/cost/prices_us_east_1.json.
"""

from __future__ import annotations

import argparse
from typing import Any, Literal

from workflows.cli import render as render_options
from workflows.cli.targeting import add_target_options, execution_from
from workflows.cost.model import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_COLD_START_RATE,
    INTEGRATION_LAMBDA_MEMORY_MB,
    PRICES_FILE,
    ExecutionUsage,
    FunctionProfile,
    Prices,
    Usage,
    bill,
)
from workflows.definitions import catalog

DEFAULT_PER_MONTH = 100_000
MAX_SAMPLE = 50  # executions of each workflow in a local sample


def register(sub: Any) -> None:
    p = sub.add_parser("cost", help="what the workflows cost on AWS per month (Standard vs Express), from executions")
    p.add_argument("--workflow", help="|".join(sm.workflow for sm in catalog.STATE_MACHINES) + " (default: all)")
    p.add_argument("--per-month", type=int, default=DEFAULT_PER_MONTH, metavar="N",
                   help=f"executions of each workflow per month (default {DEFAULT_PER_MONTH:,})")
    p.add_argument("--execution", metavar="ARN|NAME",
                   help="price this execution (ARN, name or the start of one; its history at the target) "
                        "instead of a local sample")
    add_target_options(p)
    p.add_argument("--free-tier", action=argparse.BooleanOptionalAction, default=True,
                   help="take the monthly free tier off the total (default: on)")
    p.add_argument("--arch", choices=ARCHITECTURES, default=DEFAULT_ARCHITECTURE,
                   help=f"Lambda architecture (default {DEFAULT_ARCHITECTURE}, as deployed)")
    p.add_argument("--cold-start-pct", type=float, default=DEFAULT_COLD_START_RATE * 100, metavar="P",
                   help="percent of invocations that are cold starts, their measured Init Duration billed "
                        f"(default {DEFAULT_COLD_START_RATE * 100:g}, AWS's figure for production workloads)")
    p.add_argument("--sample", type=int, metavar="N", help="executions of each workflow in the local sample")
    p.add_argument("--prices", metavar="FILE", help="another price file (default workflows/cost/prices_us_east_1.json)")
    render_options.add_output_option(p)
    p.set_defaults(handler=cmd_cost)


def cmd_cost(args: argparse.Namespace) -> int:
    from workflows.cli.errors import UsageError

    if args.per_month < 0:
        raise UsageError("--per-month must be 0 or more")
    if not 0 <= args.cold_start_pct <= 100:
        raise UsageError("--cold-start-pct must be 0 to 100")
    if args.sample is not None and not 1 <= args.sample <= MAX_SAMPLE:
        raise UsageError(f"--sample must be 1 to {MAX_SAMPLE}")
    prices = _prices(args.prices)
    workflows = None
    if args.workflow:
        try:
            workflows = [catalog.workflow(args.workflow).workflow]
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
    if args.execution:
        executions, profiles, source = _from_execution(args)
        if workflows and executions and next(iter(executions)) not in workflows:
            raise UsageError(f"{args.execution} is an execution of {next(iter(executions))}, not {workflows[0]}")
    else:
        from workflows.cost.sample import run_sample

        counts = {sm.workflow: args.sample for sm in catalog.STATE_MACHINES} if args.sample else None
        sample = run_sample(workflows, counts)
        executions, profiles = sample.executions, sample.profiles
        source = {"kind": "sample", "counts": {w: len(x) for w, x in executions.items()}}
    try:
        result = estimate(executions, profiles, prices, per_month=args.per_month, architecture=args.arch,
                          free_tier=args.free_tier, source=source, cold_start_rate=args.cold_start_pct / 100)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if not args.prices:
            raise
        raise UsageError(f"--prices {args.prices} is not a price file like {_relative(str(PRICES_FILE))}: "
                         f"{type(exc).__name__} {exc}") from None
    if render_options.wants_json(args):
        render_options.print_json(result)
    else:
        render(result)
    return 0


def _prices(path: str | None) -> Prices:
    """The price file: the project's, or --prices FILE (read with a size limit)."""
    from workflows.cli.errors import UsageError
    from workflows.cli.inputs import read_json_file

    if not path:
        return Prices.load()
    data = read_json_file(path, "--prices")
    if not isinstance(data, dict):
        raise UsageError(f"--prices {path} is not a price file (a JSON object)")
    return Prices(data, path)


def _from_execution(args: argparse.Namespace) -> tuple[dict[str, list[ExecutionUsage]],
                                                     dict[str, FunctionProfile], dict]:
    from workflows.cli.errors import UsageError
    from workflows.cost.sample import load_execution, run_sample

    target, arn = execution_from(args, args.execution)
    try:
        execution = load_execution(target.client("stepfunctions"), arn)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    profiles: dict[str, FunctionProfile] = {}
    measured = None
    if any(sm.workflow == execution.workflow for sm in catalog.STATE_MACHINES):
        # What the Lambdas do inside is not in a history: measured on a small local sample.
        profiles = run_sample([execution.workflow], {execution.workflow: 3}).profiles
        measured = execution.workflow
    reported = _reported_durations(target, arn, execution, profiles)
    source = {"kind": "execution", "execution_arn": arn, "endpoint": target.where, "profiles_from_sample_of": measured,
              "durations_from_report_lines_of": reported}
    return {execution.workflow: [execution]}, profiles, source


def _reported_durations(target: Any, arn: str, execution: ExecutionUsage,
                        profiles: dict[str, FunctionProfile]) -> list[str]:
    """Billed and Init Durations from the target's own REPORT lines (its CloudWatch Logs) of each
    function the execution ran, while it ran (and a minute after, for the event consumers), in
    place of the local sample's: AWS's figures when the target is AWS. The functions found."""
    from datetime import timedelta

    from botocore.exceptions import BotoCoreError, ClientError

    from workflows.cost.reports import read_reports
    from workflows.targets.target import TargetError

    desc = target.client("stepfunctions").describe_execution(executionArn=arn)
    start, stop = desc["startDate"], desc.get("stopDate") or desc["startDate"]
    start_ms, end_ms = int(start.timestamp() * 1000), int((stop + timedelta(minutes=1)).timestamp() * 1000)
    functions = {run.function for run in execution.lambdas} | {c for bus in catalog.BUSES for c in bus.consumers}
    logs = target.client("logs")
    found = []
    for logical_id in sorted(functions):
        try:  # the deployed name (a CDK-made one on AWS), from the function's ARN
            name = target.resolve(catalog.Ref("function", logical_id, "arn")).split(":function:")[-1].split(":")[0]
        except (KeyError, ValueError, TargetError):
            continue
        try:
            reports = read_reports(logs, name, start_ms, end_ms)
        except (BotoCoreError, ClientError):  # no logs to read there (say, no permission): the sample's figures
            continue
        if not reports:
            continue
        old = profiles.get(logical_id) or FunctionProfile(logical_id)
        cold = [r.init_ms for r in reports if r.init_ms is not None]
        profiles[logical_id] = FunctionProfile(logical_id, len(reports), float(sum(r.billed_ms for r in reports)),
                                               old.units_total.scaled(len(reports) / old.invocations)
                                               if old.invocations else old.units_total,
                                               sum(cold) if cold else old.init_ms_total,
                                               len(cold) if cold else old.cold_starts)
        found.append(logical_id)
    return found


# --- the estimate ----------------------------------------------------------------------------


def estimate(executions: dict[str, list[ExecutionUsage]], profiles: dict[str, FunctionProfile], prices: Prices,
             per_month: int = DEFAULT_PER_MONTH, architecture: str = DEFAULT_ARCHITECTURE, free_tier: bool = True,
             source: dict | None = None, cold_start_rate: float = DEFAULT_COLD_START_RATE) -> dict[str, Any]:
    """Per workflow: the mean execution's quantities and a month of them as Standard, Express and
    Standard-with-Lambdas-for-integrations (before the free tier); then the account total (the
    free tier is the account's, so it comes off the total once)."""
    rows = []
    monthly: dict[str, Usage] = {}
    express_ok: dict[str, bool] = {}
    for workflow, runs in executions.items():
        if not runs:
            continue
        per_execution = Usage.mean([r.usage(profiles, prices, cold_start_rate) for r in runs])
        month = per_execution.scaled(per_month)
        monthly[workflow] = month
        blocker = next((r.express_blocker for r in runs if r.express_blocker), None)
        express_ok[workflow] = blocker is None
        standard = bill(month, prices, "standard", architecture, free_tier=False)
        express = bill(month, prices, "express", architecture, free_tier=False)
        with_lambdas = bill(month, prices, "standard", architecture, free_tier=False, lambdas_for_integrations=True)
        n = len(runs)
        rows.append({
            "workflow": workflow,
            "executions_priced": n,
            "statuses": sorted({r.status for r in runs}),
            "per_execution": {
                "state_transitions": per_execution.transitions,
                "states": sum(r.states for r in runs) / n,
                "retries": sum(r.retries for r in runs) / n,
                "lambda_invocations": per_execution.lambda_requests,
                "of_which_event_consumers": per_execution.consumer_invocations,
                "lambda_gb_seconds": per_execution.lambda_gb_seconds,
                "lambda_init_gb_seconds": per_execution.lambda_init_gb_seconds,
                "lambda_invocations_measured": per_execution.lambda_measured_invocations,
                "dynamodb_write_units": per_execution.units.ddb_write_units,
                "dynamodb_read_units": per_execution.units.ddb_read_units,
                "sqs_requests": per_execution.units.sqs_requests,
                "eventbridge_events": per_execution.units.events,
                "direct_integrations": per_execution.integration_calls,
                "duration_ms": sum(r.duration_ms for r in runs) / n,
                "express_gb_seconds": per_execution.express_gb_seconds,
                "express_memory_mb": max(r.express_memory_mb for r in runs),
            },
            "express_blocker": blocker,
            "monthly_before_free_tier": {
                "standard": standard.total,
                "express": None if blocker else express.total,  # None: it cannot run as Express
                "standard_with_lambdas_for_integrations": with_lambdas.total,
                "standard_by_service": standard.by_service(),
                "express_by_service": None if blocker else express.by_service(),
            },
            "lines": {"standard": [vars(line) for line in standard.lines],
                      "express": None if blocker else [vars(line) for line in express.lines]},
        })
    total = Usage()
    for month in monthly.values():
        total = total + month
    mixed = Usage()
    for workflow, month in monthly.items():
        part = Usage(**{**vars(month)})
        if express_ok[workflow]:
            part.transitions = 0.0
        else:
            part.executions, part.express_gb_seconds = 0.0, 0.0
        mixed = mixed + part
    totals = {}
    modes: tuple[tuple[str, Usage, Literal["standard", "express", "mixed"], bool], ...] = (
        ("standard", total, "standard", False),
        ("express_where_possible", mixed, "mixed", False),
        ("standard_with_lambdas_for_integrations", total, "standard", True))
    for key, usage, mode, swap in modes:
        before = bill(usage, prices, mode, architecture, free_tier=False, lambdas_for_integrations=swap)
        after = bill(usage, prices, mode, architecture, free_tier=free_tier, lambdas_for_integrations=swap)
        totals[key] = {"before_free_tier": before.total, "free_tier": after.total - before.total,
                       "total": after.total, "by_service": after.by_service()}
    return {
        "prices": {"file": _relative(prices.path), "region": prices.region, "as_of": prices.as_of,
                   "sources": prices.data.get("sources", {})},
        "architecture": architecture,
        "free_tier": free_tier,
        "per_month": per_month,
        "source": source or {},
        "workflows": rows,
        "totals": totals,
        "cold_start_rate": cold_start_rate,
        "profiles": {k: {"invocations": p.invocations, "billed_ms": p.billed_ms, "cold_starts": p.cold_starts,
                         "init_ms": p.init_ms, "memory_mb": _memory(k), **vars(p.units)}
                     for k, p in sorted(profiles.items())},
        "notes": NOTES,
    }


def _memory(logical_id: str) -> int | None:
    try:
        return catalog.function(logical_id).memory_mb
    except KeyError:
        return None


def _relative(path: str) -> str:
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(catalog.ROOT))
    except ValueError:
        return path


NOTES = [
    "State transitions: every state entered (Pass, Choice, Succeed and Fail too, and the states inside "
    "Parallel branches and Map iterations), plus one per retry, as the Step Functions pricing page counts them.",
    "Lambda durations are measured: each function's mean Billed Duration from its REPORT lines (on the local "
    "cloud, its execution environments'; with --execution, the target's own CloudWatch Logs where it has them, "
    "AWS's on AWS); a timed-out invocation bills its timeout. A local machine is not AWS's: price an "
    "execution that ran on AWS for AWS's timings. Express durations are the history's.",
    "Lambda INIT: billed like the invoke phase for on-demand ZIP functions on managed runtimes since "
    "1 August 2025 (AWS Lambda standardizes billing for INIT phase). Each cold start adds the function's "
    "measured mean Init Duration; cold starts are --cold-start-pct of invocations (default 1%, AWS's figure "
    "for production workloads).",
    "Express: 1 request per execution, duration rounded up to 100 ms, memory in 64 MB steps "
    "(50 MB + definition + execution data x Parallel/Map steps); n/a for a workflow with a .waitForTaskToken "
    "or .sync task, which Express cannot run. The 'Express where possible' total keeps those on Standard.",
    "Lambda: a failed or timed-out invocation is billed, a throttled one is not. The calls a Lambda makes "
    "itself and the EventBridge consumers' invocations are measured on the local cloud (per function, per "
    "invocation) and applied to each invocation in the history.",
    f"'Lambdas for integrations': each direct DynamoDB/SQS/EventBridge/Step Functions task becomes a "
    f"{INTEGRATION_LAMBDA_MEMORY_MB} MB Lambda making the same call (same service charges, plus its requests "
    f"and its duration as the history shows the integration's).",
    "DynamoDB on demand: UpdateItem/DeleteItem are counted as items under 1 KB (the fleet's are); a failed "
    "conditional write is billed. Storage, data transfer, CloudWatch Logs and API Gateway are not included.",
]


# --- rendering -------------------------------------------------------------------------------


def money(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value != 0 and value < 0.01:
        return f"{sign}${value:.4f}"
    return f"{sign}${value:,.2f}"


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def render(result: dict[str, Any]) -> None:
    from workflows.cli import render as out

    p = result["prices"]
    out.console.print(f"[bold]fleet cost[/]: {p['region']} prices as of {p['as_of']} ({p['file']}); "
                      f"Lambda {result['architecture']}; free tier {'on' if result['free_tier'] else 'off'}")
    src = result["source"]
    if src.get("kind") == "execution":
        line = f"from: execution {src['execution_arn']} at {src['endpoint']}"
        if src.get("profiles_from_sample_of"):
            line += f" (what its Lambdas do inside: measured on a local sample of {src['profiles_from_sample_of']})"
    else:
        from workflows.cost.sample import SAMPLE_DESCRIPTION

        line = "from: a sample on an in-process local cloud (virtual clock), after a warm-up run: " + "; ".join(
            f"{w} x{n} ({SAMPLE_DESCRIPTION.get(w, w)})" for w, n in src.get("counts", {}).items())
    out.console.print(line, markup=False)
    out.table("per execution (mean)", ["workflow", "transitions", "retries", "Lambda invocations",
                                       "Lambda GB-s (INIT)", "DynamoDB WRU", "DynamoDB RRU",
                                       "SQS requests", "events", "duration ms"], [
        (r["workflow"], _num(e["state_transitions"]), _num(e["retries"]),
         f"{_num(e['lambda_invocations'])} ({_num(e['of_which_event_consumers'])} consumer)",
         f"{e['lambda_gb_seconds']:.4f} ({e['lambda_init_gb_seconds']:.5f})", _num(e["dynamodb_write_units"]),
         _num(e["dynamodb_read_units"]), _num(e["sqs_requests"]), _num(e["eventbridge_events"]),
         _num(round(e["duration_ms"])))
        for r in result["workflows"] for e in [r["per_execution"]]
    ])
    out.table(f"Lambda, measured (cold starts: {result['cold_start_rate'] * 100:g}% of invocations)",
              ["function", "memory MB", "invocations", "mean billed ms", "cold starts", "mean Init Duration ms"], [
        (k, str(p["memory_mb"] or ""), _num(p["invocations"]), f"{p['billed_ms']:.1f}", _num(p["cold_starts"]),
         f"{p['init_ms']:.1f}" if p["cold_starts"] else "none seen")
        for k, p in result["profiles"].items()
    ])
    n = result["per_month"]
    rows = []
    for r in result["workflows"]:
        m = r["monthly_before_free_tier"]
        express = money(m["express"]) if not r["express_blocker"] else f"n/a: {r['express_blocker'].split(' (')[0]}"
        rows.append((r["workflow"], money(m["standard"]), express, money(m["standard_with_lambdas_for_integrations"]),
                     money(m["standard"] / n * 1000) if n else "n/a"))
    t = result["totals"]
    rows.append(("all, before free tier", money(t["standard"]["before_free_tier"]),
                 money(t["express_where_possible"]["before_free_tier"]),
                 money(t["standard_with_lambdas_for_integrations"]["before_free_tier"]), ""))
    if result["free_tier"]:
        rows.append(("free tier", money(t["standard"]["free_tier"]), money(t["express_where_possible"]["free_tier"]),
                     money(t["standard_with_lambdas_for_integrations"]["free_tier"]), ""))
    rows.append(("total per month", money(t["standard"]["total"]), money(t["express_where_possible"]["total"]),
                 money(t["standard_with_lambdas_for_integrations"]["total"]), ""))
    out.table(f"per month, {n:,} executions of each workflow", [
        "workflow", "Standard", "Express", "Standard, Lambdas for integrations", "Standard per 1,000"], rows)
    services = sorted({s for v in t.values() for s in v["by_service"]})
    out.table("total per month by service", ["service", "Standard", "Express where possible",
                                             "Standard, Lambdas for integrations"], [
        (s, money(t["standard"]["by_service"].get(s, 0.0)),
         money(t["express_where_possible"]["by_service"].get(s, 0.0)),
         money(t["standard_with_lambdas_for_integrations"]["by_service"].get(s, 0.0)))
        for s in services
    ])
    for note in result["notes"]:
        out.console.print(f"- {note}", markup=False)
