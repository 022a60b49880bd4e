"""bench/results/latest.md: the machine, the versions, and every figure next to its reference."""

from __future__ import annotations

import math
from typing import Any

from workflows.load.stats import METHOD

GENERIC = ("threading.py", "concurrent/futures", "<frozen importlib", "bench/workloads.py")


def profile_summary(p: Any, n: int) -> dict[str, Any]:
    kept = max(p.samples, 1)

    def top(counter: Any, k: int, skip_generic: bool = False) -> list[tuple[str, int, float]]:
        rows = []
        for name, count in counter.most_common():
            if skip_generic and any(g in name for g in GENERIC):
                continue
            rows.append((name, count, 100.0 * count / kept))
            if len(rows) >= k:
                break
        return rows

    return {
        "registrations": n, "wall_s": p.wall_s, "rate_hz": p.rate, "samples_kept": p.samples,
        "samples_total": p.total_samples, "no_python_frame": p.no_python_frame,
        "packages": top(p.packages, 20), "self": top(p.self_time, 15), "inclusive": top(p.inclusive, 20, True),
        "via": top(p.via, 12),
    }


def _fmt_ms(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _measured(results: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A benchmark's figures, if it ran and did not fail."""
    r = results.get(name)
    return r if r and not r.get("error") else None


def verdicts(results: dict[str, Any], targets: dict[str, float]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []

    def add(target: str, figure: str, reference: str, goal: str, result: str) -> None:
        out.append({"target": target, "figure": figure, "reference": reference, "goal": goal, "result": result})

    def error(name: str, target: str, goal: str) -> bool:
        r = results.get(name)
        if r is None:
            add(target, "not run", "", goal, "SKIP")
            return True
        if r.get("error"):
            add(target, f"error: {r['error'][:120]}", "", goal, "ERROR")
            return True
        return False

    if not error("register", "register p50, local cloud vs direct calls", f"<= {targets['register_p50_ratio']:g}x"):
        r = results["register"]
        add("register p50, local cloud vs direct calls", _fmt_ms(r["local"]["p50"]),
            f"{_fmt_ms(r['direct']['p50'])} direct; ratio {r['p50_ratio']:.1f}x",
            f"<= {targets['register_p50_ratio']:g}x", _verdict(r["p50_ratio"] <= targets["register_p50_ratio"]))
        add("register p99, local cloud vs direct calls", _fmt_ms(r["local"]["p99"]),
            f"{_fmt_ms(r['direct']['p99'])} direct; ratio {r['p99_ratio']:.1f}x",
            f"<= {targets['register_p99_ratio']:g}x", _verdict(r["p99_ratio"] <= targets["register_p99_ratio"]))
    else:
        out.append({**out[-1], "target": "register p99, local cloud vs direct calls",
                    "goal": f"<= {targets['register_p99_ratio']:g}x"})
    name = f"{results.get('concurrent', {}).get('n', 300)} concurrent registrations"
    if not error("concurrent", name, f">= {targets['concurrent_per_s']:g}/s"):
        r = results["concurrent"]
        ok = r["per_s"] >= targets["concurrent_per_s"] and r["statuses"].get("SUCCEEDED") == r["n"]
        add(name, f"{r['per_s']:.1f} executions/s", f"{r['n']} in {r['wall_s']:.1f} s; {r['statuses']}",
            f">= {targets['concurrent_per_s']:g}/s", _verdict(ok))
    for wf, what in (("dispatch", "dispatch with trip completion"), ("maintenance", "maintenance with sign-off")):
        if not error(wf, what, "reported"):
            r = results[wf]
            add(what, f"p50 {_fmt_ms(r['total']['p50'])}, p99 {_fmt_ms(r['total']['p99'])}",
                f"engine alone (less the token wait): p50 {_fmt_ms(r['engine']['p50'])}, "
                f"p99 {_fmt_ms(r['engine']['p99'])}", "reported", "INFO")
    if not error("cold_start", "cold start, every handler module (median)", f"<= {targets['cold_start_ms']:g} ms"):
        r = results["cold_start"]
        mods = [m for m in r["modules"] if not m["error"]]
        over = [m for m in mods if m["median_ms"] > targets["cold_start_ms"]]
        errors = [m for m in r["modules"] if m["error"]]
        slowest = mods[0] if mods else None
        fastest = mods[-1] if mods else None
        add("cold start, every handler module (median)",
            f"slowest {slowest['module']} {_fmt_ms(slowest['median_ms'])}" if slowest else "n/a",
            f"fastest {fastest['module']} {_fmt_ms(fastest['median_ms'])}; {len(over)} of {len(mods)} over"
            + (f"; {len(errors)} failed to import" if errors else "") if fastest else "",
            f"<= {targets['cold_start_ms']:g} ms", _verdict(not over and not errors))
    if not error("up", "`fleet up` ready (/health answers)", f"<= {targets['up_ready_s']:g} s"):
        r = results["up"]
        add("`fleet up` ready (/health answers)", f"{r['median_s']:.2f} s (median of {len(r['runs_s'])})",
            "runs " + ", ".join(f"{x:.2f} s" for x in r["runs_s"]), f"<= {targets['up_ready_s']:g} s",
            _verdict(r["median_s"] <= targets["up_ready_s"]))
    if not error("demo", "`fleet demo` wall time", f"<= {targets['demo_s']:g} s"):
        r = results["demo"]
        add("`fleet demo` wall time", f"{r['wall_s']:.1f} s", r["says"] or f"exit {r['exit']}",
            f"<= {targets['demo_s']:g} s", _verdict(r["wall_s"] <= targets["demo_s"] and r["exit"] == 0))
    _service_verdicts(results, targets, add, error)
    if "make_test" in results:
        if not error("make_test", "`make test` total", "reported"):
            r = results["make_test"]
            add("`make test` total", f"{r['wall_s'] / 60:.1f} min", f"exit {r['exit']}: {r['summary']}", "reported",
                "INFO")
    else:
        add("`make test` total", "not run (bench/run.py --with-make-test)", "", "reported", "SKIP")
    return out


def _service_verdicts(results: dict[str, Any], targets: dict[str, float], add: Any, error: Any) -> None:
    """`fleet up` as a service (bench/service.py)."""
    if "durability" in results and not error("durability", "durability cost, concurrent registrations",
                                             f"<= {targets['durability_cost_pct']:g}%"):
        r = results["durability"]
        add("durability cost, concurrent registrations", f"{r['cost_pct']:.1f}%",
            f"{r['n']} at once: best {r['best_per_s']['memory']:.1f}/s in memory, {r['best_per_s']['durable']:.1f}/s "
            f"with the state store", f"<= {targets['durability_cost_pct']:g}%",
            _verdict(r["cost_pct"] <= targets["durability_cost_pct"]))
    if "crash_restart" in results and not error("crash_restart", "kill -9, then the same ports free",
                                                f"<= {targets['crash_ports_free_s']:g} s"):
        r = results["crash_restart"]
        add("kill -9, then the same ports free", f"{r['ports_free_s']:.3f} s",
            f"a new fleet up answering {r['answering_again_s']:.1f} s after the kill; "
            f"{r['acknowledged_before_kill']} requests acknowledged before it (nothing lost: tests/reliability/"
            "test_crash_restart.py)", f"<= {targets['crash_ports_free_s']:g} s",
            _verdict(r["ports_free_s"] <= targets["crash_ports_free_s"]))
    if "sustained" in results and not error("sustained", "sustained 5 requests/s: RSS growth after 2 min",
                                            f"<= {targets['sustained_rss_mb_per_min']:g} MB/min"):
        r = results["sustained"]["summary"]
        growth, p50 = r["rss_growth_mb_per_min_after_2_min"], r["p50_ratio"]
        add(f"sustained 5 requests/s for {r['minutes']:g} min: RSS growth after 2 min",
            f"{growth:.2f} MB/min" if growth is not None else "n/a (too short)",
            f"RSS {r['rss_first_mb']:.0f} -> {r['rss_last_mb']:.0f} MB", f"<= {targets['sustained_rss_mb_per_min']:g} MB/min",
            _verdict(growth is not None and growth <= targets["sustained_rss_mb_per_min"]))
        add(f"sustained 5 requests/s for {r['minutes']:g} min: p50 last minute / first",
            f"{p50:.2f}x" if p50 is not None else "n/a", f"{r['p50_first_ms']} -> {r['p50_last_ms']} ms; executions "
            f"{r['executions']}", f"<= {targets['sustained_p50_ratio']:g}x",
            _verdict(p50 is not None and p50 <= targets["sustained_p50_ratio"] and r["accounted"]))


def _summary_row(label: str, s: dict[str, float]) -> str:
    return (f"| {label} | {s['n']} | {_fmt_ms(s['p50'])} | {_fmt_ms(s['p90'])} | {_fmt_ms(s['p99'])} | "
            f"{_fmt_ms(s['mean'])} | {_fmt_ms(s['min'])} | {_fmt_ms(s['max'])} |")


_SUMMARY_HEAD = "| | n | p50 | p90 | p99 | mean | min | max |\n|---|---:|---:|---:|---:|---:|---:|---:|"


def _load(r: dict[str, Any]) -> str:
    load = r.get("_loadavg_before") or []
    return f"load average {load[0]:.2f} at its start, {r.get('_seconds', 0):.0f} s" if load else ""


def markdown(meta: dict[str, Any], results: dict[str, Any], verdicts_: list[dict[str, str]]) -> str:
    m, v, g = meta["machine"], meta["versions"], meta.get("git", {})
    lines = [
        "# Benchmarks",
        "",
        f"{meta['date']} (UTC), `{meta['command'].strip()}` ({'quick samples' if meta['quick'] else 'full samples'}), "
        f"{meta['seconds'] / 60:.1f} min. Written by bench/run.py (`make bench`); the raw figures are in latest.json.",
        f"Code: git {g.get('head', '?')} ({g.get('subject', '')})"
        + (f", with {g['modified']} modified or new files in the tree" if g.get("modified") else "")
        + ("; workflows/local/adapter/ modified" if g.get("adapter_modified") else "") + ".",
        f"Percentiles: {METHOD} (workflows/load/stats.py), as everywhere in the project.",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu', '?')}, nproc {m.get('nproc')}",
        f"- memory: {m.get('mem_total_gb', 0):.1f} GB, {m.get('mem_available_gb', 0):.1f} GB available at the start",
        f"- load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in m.get('loadavg_start', []))} at the start, "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_end', []))} at the end; each benchmark's is in its section. "
        "The machine is shared (other engineers run tests on it): figures are comparable within this run, "
        "not across runs on a different load.",
    ]
    if m.get("busiest_processes"):
        lines.append("- busiest other processes at the start: " + "; ".join(f"`{p}`" for p in m["busiest_processes"]))
    lines += [
        f"- platform: {m.get('platform')}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## Targets",
        "",
        "| target | figure | reference, measured in the same run | goal | result |",
        "|---|---|---|---|---|",
    ]
    for row in verdicts_:
        lines.append(f"| {row['target']} | {row['figure']} | {row['reference']} | {row['goal']} "
                     f"| **{row['result']}** |")
    lines += ["", "PASS/FAIL is against the issue's targets (issue 9). A benchmark never fails the build."]

    if r := _measured(results, "register"):
        lines += [
            "", "## Register, end to end", "",
            "One registration at a time, start to end (`start_execution` then the execution's end), on a local "
            "cloud with a virtual clock, against the direct-call equivalent: the same handlers (ValidateCar, "
            "InspectCar) and the same DynamoDB PutItem / UpdateItem and EventBridge PutEvents, with the "
            "parameters the ASL builds, called with boto3 against moto in the same process, in the same order, "
            f"without Step Functions (bench/direct.py). {r['warmup']} warm-up runs of each first; then blocks of "
            f"{r['block']} of each, interleaved, so both see the same load ({_load(r)}).", "",
            _SUMMARY_HEAD, _summary_row("local cloud", r["local"]), _summary_row("direct calls", r["direct"]),
            f"| ratio | | {r['p50_ratio']:.1f}x | | {r['p99_ratio']:.1f}x | | | |",
        ]
    if r := _measured(results, "concurrent"):
        lines += [
            "", "## Concurrent registrations", "",
            f"{r['n']} registrations started at once (one after the other, as fast as StartExecution answers; the "
            f"executions run while the rest are started), then each waited for: {r['n']} in {r['wall_s']:.2f} s = "
            f"**{r['per_s']:.1f} executions/s** (starting them all took {r['start_s']:.2f} s); outcomes "
            f"{r['statuses']}; {_load(r)}.",
        ]
    for wf, title, how in (
            ("dispatch", "Dispatch with trip completion",
             "a ride dispatched to the nearest of the fleet's cars; as soon as its trip waits for the report (the "
             "engine takes a heartbeat for the task token), the car completes it through fleet_domain.control.resume "
             "(as `fleet trip complete` does); to the execution's end"),
            ("maintenance", "Maintenance with sign-off",
             "a newly registered car sent to maintenance (diagnose, parts and technician in parallel, a Map of "
             "checks); as soon as its job awaits the sign-off the technician signs it off through "
             "fleet_domain.control.resume (as `fleet maintenance sign-off` does); road test, back in service")):
        if r := _measured(results, wf):
            lines += [
                "", f"## {title}", "",
                f"One at a time, after {r['warmup']} warm-up runs: {how}. 'total' is wall time from the start to "
                "the end, the resume included; 'engine' is the execution's duration less the time its task token "
                f"was out (from the history). Outcomes {r['statuses']}; {_load(r)}.", "",
                _SUMMARY_HEAD, _summary_row("total", r["total"]), _summary_row("engine", r["engine"]),
                _summary_row("token out", r["token_wait"]),
            ]
    if r := _measured(results, "cold_start"):
        lines += [
            "", "## Cold start", "",
            f"Each handler module imported in a fresh interpreter, `python -S -X importtime -c \"import <module>\"` "
            f"with lambdas/ and the dependencies on PYTHONPATH (-S: the asset's sys.path, without the "
            f"development venv's .pth hooks), {r['runs']} runs each; the figure is the module's cumulative import "
            "time (median). The environment is the deployed function's: its catalog variables and Lambda's own "
            "(AWS_LAMBDA_FUNCTION_NAME, LAMBDA_TASK_ROOT, ...), active tracing (no POWERTOOLS_TRACE_DISABLED, so Powertools' Tracer "
            "loads the X-Ray SDK). This interpreter, not Lambda's python3.13. 'untraced' is the same with "
            f"POWERTOOLS_TRACE_DISABLED=true (median of {r.get('untraced_runs', '?')}), as the local cloud runs "
            f"the handlers. {_load(r)}.", "",
            "| module | function | median | runs | process wall (median) | untraced |",
            "|---|---|---:|---|---:|---:|",
        ]
        for mod in r["modules"]:
            if mod["error"]:
                lines.append(f"| {mod['module']} | {mod['function']} | error | {mod['error']} | | |")
                continue
            lines.append(f"| {mod['module']} | {mod['function']} | {_fmt_ms(mod['median_ms'])} | "
                         + ", ".join(f"{x:.0f}" for x in mod["runs_ms"])
                         + f" | {_fmt_ms(mod['process_median_ms'])} | {_fmt_ms(mod.get('untraced_median_ms'))} |")
        b = r.get("breakdown") or {}
        if b:
            lines += ["", f"Where the slowest, `{r['slowest']}`, spends its import (its median run):", "",
                      "| imported by the module | cumulative | share |  | most self time | self | share |",
                      "|---|---:|---:|---|---|---:|---:|"]
            direct, own = b.get("direct_imports", []), b.get("self_time", [])
            for i in range(max(len(direct), len(own))):
                d = direct[i] if i < len(direct) else ("", None, None)
                s = own[i] if i < len(own) else ("", None, None)
                lines.append(
                    f"| {d[0]} | {_fmt_ms(d[1]) if d[1] is not None else ''} | "
                    f"{f'{d[2]:.0f}%' if d[2] is not None else ''} |  | {s[0]} | "
                    f"{_fmt_ms(s[1]) if s[1] is not None else ''} | {f'{s[2]:.0f}%' if s[2] is not None else ''} |")
    if r := _measured(results, "up"):
        lines += ["", "## `fleet up` ready", "",
                  "From starting `fleet up --aws-port P --api-port Q` (free ports) until `GET /health` on the API "
                  "port answers 200, then SIGTERM: " + ", ".join(f"{x:.2f} s" for x in r["runs_s"])
                  + f"; median **{r['median_s']:.2f} s**; {_load(r)}."]
    if r := _measured(results, "demo"):
        lines += ["", "## `fleet demo`", "",
                  f"`fleet demo` in a scratch directory, wall time from the process's start to its exit: "
                  f"**{r['wall_s']:.1f} s** (exit {r['exit']}; the demo itself says \"{r['says']}\"); {_load(r)}."]
    if r := _measured(results, "make_test"):
        lines += ["", "## `make test`", "",
                  f"**{r['wall_s'] / 60:.1f} min**, exit {r['exit']}: {r['summary']}; {_load(r)}."]
    if r := _measured(results, "jsonata"):
        jp, ja = r["jsonpath"], r["jsonata"]
        lines += ["", "## JSONata against JSONPath", "",
                  "The same register-like machine (shape the car, check it in a Choice, write it to DynamoDB, answer a "
                  "summary) written in JSONPath and in JSONata (bench/jsonata_overhead.py), run alternately on one local "
                  f"cloud after {r['warmup']} warm-up runs each, wall time per execution: JSONPath p50 {_fmt_ms(jp['p50'])}, "
                  f"p99 {_fmt_ms(jp['p99'])}; JSONata p50 {_fmt_ms(ja['p50'])}, p99 {_fmt_ms(ja['p99'])}: "
                  f"**JSONata costs {r['p50_ratio']:.2f}x at p50** ({r['p99_ratio']:.2f}x at p99); {_load(r)}."]
    if r := _measured(results, "profile"):
        kept = r["samples_kept"]
        lines += [
            "", "## Profile of the register path", "",
            f"py-spy ({r['rate_hz']} Hz, `--gil --nonblocking`) attached to a process registering "
            f"{r['registrations']} cars one at a time on the local cloud, once warm (bench/profile.py): "
            f"{r['wall_s']:.1f} s, {r['wall_s'] / max(r['registrations'], 1) * 1000:.0f} ms a registration under "
            f"the profiler. Only the thread holding the GIL is sampled, so this is where the CPU goes; {kept} "
            f"samples on the register path (of {r['samples_total']}; {r['no_python_frame']} with no Python frame). "
            f"{_load(r)}.", "",
            "By package of the function on top of the stack:", "",
            "| package | samples | share |", "|---|---:|---:|",
            *[f"| {name} | {n} | {pct:.0f}% |" for name, n, pct in r["packages"]],
            "", "Called into from (the package on top, and the moto or fleet function that called into it):", "",
            "| package <- caller | samples | share |", "|---|---:|---:|",
            *[f"| {name} | {n} | {pct:.0f}% |" for name, n, pct in r["via"]],
            "", "Top functions by self time:", "",
            "| function | samples | share |", "|---|---:|---:|",
            *[f"| `{name}` | {n} | {pct:.0f}% |" for name, n, pct in r["self"]],
            "", "Top functions by inclusive time (thread plumbing left out):", "",
            "| function | samples | share |", "|---|---:|---:|",
            *[f"| `{name}` | {n} | {pct:.0f}% |" for name, n, pct in r["inclusive"]],
        ]
    errors = {k: v for k, v in results.items() if v.get("error")}
    if errors:
        lines += ["", "## Errors", ""]
        for name, r in errors.items():
            lines += [f"- {name}: {r['error']}", "", "```", r.get("trace", "").strip(), "```"]
    lines += ["", "## Reproduce", "", "`make bench` (or `.venv/bin/python bench/run.py`; `--with-make-test` adds "
              "`make test`; `--quick` for small samples; `--only register profile` for some)."]
    return "\n".join(lines) + "\n"
