"""The in-process benchmarks, one per process (bench/run.py starts each with a fresh interpreter):

    python bench/workloads.py register-latency --n 200 --out FILE
    python bench/workloads.py register-concurrency --n 300 --out FILE
    python bench/workloads.py dispatch --n 40 --out FILE
    python bench/workloads.py maintenance --n 30 --out FILE
    python bench/workloads.py register-loop --n 150        (the target py-spy profiles)

Each writes its measurements as JSON to --out. Everything runs on a LocalCloud with a virtual
clock (as the tests and the demo do); latencies are wall time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / "lambdas"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)
for key, value in {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
                   "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
    os.environ.setdefault(key, value)

from workflows.demo.scenarios import Scenarios, car_request  # noqa: E402
from workflows.local.cloud import LocalCloud  # noqa: E402
from workflows.targets import stepfunctions  # noqa: E402


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t) * 1000, result


def register_latency(n: int, block: int = 20, warmup: int = 10) -> dict:
    """Register one car at a time on the local cloud, and the same work called directly; the two
    interleaved in blocks so both see the same machine load."""
    from bench.direct import DirectRegister

    with LocalCloud(virtual_time=True) as cloud:
        runs = Scenarios(cloud, prefix="BENCHCAR")
        direct = DirectRegister(cloud)
        numbers = iter(range(1, 10 ** 9))

        def local_one() -> None:
            arn = runs.start_register()
            desc = cloud.wait(arn)
            if desc["status"] != "SUCCEEDED":
                raise RuntimeError(f"register {arn} ended {desc['status']}: {desc.get('error')} {desc.get('cause')}")

        def direct_one() -> None:
            direct.register(car_request(next(numbers), prefix="DRCTCAR"))

        for _ in range(warmup):
            local_one()
            direct_one()
        local: list[float] = []
        reference: list[float] = []
        gc.collect()
        while len(local) < n:
            for _ in range(min(block, n - len(local))):
                local.append(_timed(local_one)[0])
            for _ in range(min(block, n - len(reference))):
                reference.append(_timed(direct_one)[0])
    return {"local_ms": local, "direct_ms": reference, "warmup": warmup, "block": block}


def register_concurrency(n: int) -> dict:
    """Start n registrations at once, then wait for every one: executions per second."""
    with LocalCloud(virtual_time=True) as cloud:
        runs = Scenarios(cloud, prefix="CNCRCAR")
        for _ in range(3):  # warm-up
            runs.register()
        gc.collect()
        t0 = time.perf_counter()
        arns = [runs.start_register() for _ in range(n)]
        started = time.perf_counter()
        statuses: dict[str, int] = {}
        for arn in arns:
            status = cloud.wait(arn, timeout_s=300)["status"]
            statuses[status] = statuses.get(status, 0) + 1
        wall = time.perf_counter() - t0
    return {"n": n, "wall_s": wall, "start_s": started - t0, "per_s": n / wall, "statuses": statuses}


def _lifecycle(workflow: str, n: int, warmup: int) -> dict:
    with LocalCloud(virtual_time=True) as cloud:
        runs = Scenarios(cloud, prefix="LFCYCAR")
        run = {"dispatch": runs.dispatch, "maintenance": runs.maintenance}[workflow]
        if workflow == "dispatch":
            runs.ensure_fleet(4)
        for _ in range(warmup):
            run()
        gc.collect()
        total, engine, statuses, token_waits = [], [], {}, []
        sfn = cloud.client("stepfunctions")
        for _ in range(n):
            ms, arn = _timed(run)
            total.append(ms)
            result = stepfunctions.describe(sfn, arn)
            statuses[result.status] = statuses.get(result.status, 0) + 1
            wait = sum(v.token_wait_ms or 0.0 for v in result.visits)
            token_waits.append(wait)
            engine.append(max(0.0, result.duration_ms - wait))
    return {"total_ms": total, "engine_ms": engine, "token_wait_ms": token_waits, "statuses": statuses,
            "warmup": warmup}


def register_loop(n: int, handshake: bool = False) -> dict:
    """The profiled target: n registrations, one at a time. With `handshake`, it says "ready" on
    stdout once warm and waits for a line on stdin, so a profiler attaches for the loop only."""
    with LocalCloud(virtual_time=True) as cloud:
        runs = Scenarios(cloud, prefix="PRFLCAR")
        for _ in range(10):  # warm-up: handlers imported, clients made, the ASL parsed
            runs.register()
        if handshake:
            print("ready", flush=True)
            sys.stdin.readline()
        t0 = time.perf_counter()
        for _ in range(n):
            runs.register()
        wall = time.perf_counter() - t0
        if handshake:
            print("done", flush=True)
        return {"n": n, "wall_s": wall}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=("register-latency", "register-concurrency", "dispatch", "maintenance",
                                        "register-loop"))
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--out")
    p.add_argument("--handshake", action="store_true", help="register-loop: ready/go on stdout/stdin")
    args = p.parse_args(argv)
    if args.workload == "register-latency":
        result = register_latency(args.n)
    elif args.workload == "register-concurrency":
        result = register_concurrency(args.n)
    elif args.workload in ("dispatch", "maintenance"):
        result = _lifecycle(args.workload, args.n, args.warmup)
    else:
        result = register_loop(args.n, args.handshake)
    text = json.dumps(result)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
