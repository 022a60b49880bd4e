"""`fleet up` as a service: sustained load, the cost of durability, restart after a crash.

    python bench/service.py sustained [--minutes 30]     (default: $FLEET_BENCH_SUSTAINED_MIN or 5)
    python bench/service.py durability [--n 300]
    python bench/service.py crash-restart

bench/run.py runs each as a step (`--only sustained durability crash_restart`); the figures go to
its report. Targets (issue 15): RSS growth after the first 2 minutes at most 1 MB/min and the last
minute's p50 within 1.5x of the first at 5 requests/s for 30 minutes; durability at most 10% of
the 300-concurrent throughput; after `kill -9`, the same ports again in under 2 s with nothing
acknowledged lost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / "lambdas"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

SUSTAINED_RATE = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fleet() -> list[str]:
    exe = Path(sys.executable).with_name("fleet")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "workflows"]


def _up(ports: tuple[int, int], state_dir: str) -> subprocess.Popen[str]:
    """Its output (a log line per API request) goes to a file: a pipe nobody reads fills up and
    blocks the server's logging, and with it every request."""
    log = open(Path(state_dir) / "fleet-up.log", "a")  # noqa: SIM115 - the child holds it
    return subprocess.Popen([*_fleet(), "up", "--aws-port", str(ports[0]), "--api-port", str(ports[1]),
                             "--state-dir", state_dir], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)


def _healthy(api_port: int, deadline_s: float = 120.0) -> float:
    """Seconds until GET /health answers 200."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < deadline_s:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/health", timeout=5) as resp:
                if resp.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"fleet up did not answer /health within {deadline_s:.0f} s")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sustained(minutes: float) -> dict[str, Any]:
    """5 requests/s, `fleet load`'s default mix, against `fleet up` with its state store (the default)."""
    from workflows.load.sustained import sustained as drive

    state = tempfile.mkdtemp(prefix="fleet-bench-sustained-")
    ports = (_free_port(), _free_port())
    proc = _up(ports, state)
    try:
        _healthy(ports[1])
        report = drive(f"http://127.0.0.1:{ports[1]}", proc.pid, SUSTAINED_RATE, minutes * 60, window_s=60,
                       warmup_s=120, wait_s=120)
    finally:
        _stop(proc)
        shutil.rmtree(state, ignore_errors=True)
    out = report.as_dict()
    windows = report.windows
    executions = report.load["executions"]
    out["summary"] = {
        "minutes": minutes, "rate": SUSTAINED_RATE,
        "rss_first_mb": windows[0].rss_mb if windows else None, "rss_last_mb": windows[-1].rss_mb if windows else None,
        "rss_growth_mb_per_min_after_2_min": report.rss_growth_mb_per_min, "p50_first_ms": windows[0].p50_ms if windows else None,
        "p50_last_ms": windows[-1].p50_ms if windows else None, "p50_ratio": report.p50_ratio,
        "executions": executions, "accounted": executions["still_running"] == 0 and executions["failed_not_in_dlq"] == 0,
        "server_errors": report.load["requests"]["server_errors"],
    }
    return out


def durability(n: int, rounds: int = 2) -> dict[str, Any]:
    """300 registrations at once on the local cloud in memory and with a state store, alternated."""
    runs: dict[str, list[float]] = {"memory": [], "durable": []}
    for _ in range(rounds):
        for mode in ("memory", "durable"):
            runs[mode].append(_concurrency(n, durable=mode == "durable")["per_s"])
    best = {mode: max(values) for mode, values in runs.items()}
    return {"n": n, "per_s": runs, "best_per_s": best,
            "cost_pct": round((1 - best["durable"] / best["memory"]) * 100, 1) if best["memory"] else None}


def _concurrency(n: int, durable: bool) -> dict[str, Any]:
    code = ("import json, sys, tempfile; sys.path[:0] = ['.', 'lambdas']; from bench.service import concurrency_run; "
            f"print(json.dumps(concurrency_run({n}, {durable!r})))")
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
           "POWERTOOLS_LOG_LEVEL": "WARNING", "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(" | ".join(proc.stderr.strip().splitlines()[-4:]))
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def concurrency_run(n: int, durable: bool) -> dict[str, Any]:
    """In a fresh process: n registrations started at once, executions per second."""
    import gc

    from workflows.demo.scenarios import Scenarios
    from workflows.local.cloud import LocalCloud

    state = tempfile.mkdtemp(prefix="fleet-bench-durable-") if durable else None
    try:
        with LocalCloud(virtual_time=True, state_dir=state) as cloud:
            runs = Scenarios(cloud, prefix="DRBLCAR")
            for _ in range(3):
                runs.register()
            gc.collect()
            t0 = time.perf_counter()
            arns = [runs.start_register() for _ in range(n)]
            statuses: dict[str, int] = {}
            for arn in arns:
                status = cloud.wait(arn, timeout_s=300)["status"]
                statuses[status] = statuses.get(status, 0) + 1
            wall = time.perf_counter() - t0
    finally:
        if state:
            shutil.rmtree(state, ignore_errors=True)
    return {"n": n, "wall_s": wall, "per_s": n / wall, "statuses": statuses}


def crash_restart(load_s: float = 10.0) -> dict[str, Any]:
    """`fleet up` under load (`fleet load` over its REST API), `kill -9`, then: how soon its ports
    bind again (as `fleet up` binds them: SO_REUSEADDR), how soon a new `fleet up` on the same
    ports and state answers, and what it read back."""
    import threading

    from workflows.load.driver import LoadPlan, LoadRun

    state = tempfile.mkdtemp(prefix="fleet-bench-crash-")
    ports = (_free_port(), _free_port())
    first = _up(ports, state)
    second = None
    try:
        _healthy(ports[1])
        run = LoadRun(LoadPlan(f"http://127.0.0.1:{ports[1]}", rate=10, duration_s=load_s, wait_s=0, seed=3))
        loader = threading.Thread(target=run.run, daemon=True)
        loader.start()
        time.sleep(load_s * 0.8)
        acknowledged = sum(1 for s in list(run.sent) if s.answer is not None and s.answer.status in (201, 202))
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = time.perf_counter()
        ports_free_s = _ports_free(ports, killed)
        second = _up(ports, state)
        _healthy(ports[1])
        answered_s = time.perf_counter() - killed
        loader.join(timeout=120)
        return {"acknowledged_before_kill": acknowledged, "ports_free_s": ports_free_s,
                "answering_again_s": round(answered_s, 2)}
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
        shutil.rmtree(state, ignore_errors=True)


def _ports_free(ports: tuple[int, int], since: float, deadline_s: float = 120.0) -> float:
    while time.perf_counter() - since < deadline_s:
        try:
            for port in ports:
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", port))
            return round(time.perf_counter() - since, 3)
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"the ports were still taken {deadline_s:.0f} s after the kill")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bench", choices=("sustained", "durability", "crash-restart"))
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("FLEET_BENCH_SUSTAINED_MIN", "5")))
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args(argv)
    if args.bench == "sustained":
        result = sustained(args.minutes)
    elif args.bench == "durability":
        result = durability(args.n)
    else:
        result = crash_restart()
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
