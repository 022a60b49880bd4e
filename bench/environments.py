"""The Lambda runtime's figures (execution environments), each next to its reference measured in
the same run, written to bench/results/environments.md (and .json):

- warm invoke overhead: an echo function through LambdaRuntime.invoke (JSON boundary, environment
  round trip, REPORT) against calling the same handler directly in this process, p50 and p99;
- cold start per catalog function: the environment's Init Duration (the module's import on the
  zygote's preloaded libraries) and the whole first invocation (fork, init, invoke);
- the API's init (FleetApi) against a minimal Powertools REST resolver with validation (one route,
  one pydantic model), both in environments of the same runtime;
- 300 concurrent registrations in process (executions/s) and over HTTP against `fleet up`
  (POST /cars, then every execution followed to its end), with the load average and cores used.

    .venv/bin/python bench/environments.py [--quick]

A benchmark reports; it never fails the build.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / "lambdas"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

from workflows.definitions import catalog  # noqa: E402
from workflows.local.clock import RealClock  # noqa: E402
from workflows.local.lambda_runtime import InvocationRecord, LambdaRuntime  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ECHO = "def handler(event, context):\n    return event\n"
MINIMAL_API = '''from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

app = APIGatewayRestResolver(enable_validation=True)


class Car(BaseModel):
    vin: str
    seats: int


@app.post("/cars")
def create(car: Car) -> dict:
    return {"vin": car.vin}


def handler(event, context):
    return app.resolve(event, context)
'''


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _create(runtime: LambdaRuntime, name: str, source: str, memory: int = 256) -> None:
    runtime.functions.create({"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler", "Role": "r",
                              "Timeout": 30, "MemorySize": memory, "Code": {"ZipFile": _zip(source)}})


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def warm_overhead(n: int) -> dict[str, Any]:
    runtime = LambdaRuntime(RealClock())
    try:
        _create(runtime, "bench-echo", ECHO)
        event = json.dumps({"vin": "1HGCM82633A004352", "model": "Robotaxi S", "year": 2024, "seats": 4})
        for _ in range(20):
            runtime.invoke("bench-echo", event)
        invoke_ms = []
        for _ in range(n):
            t = time.perf_counter()
            runtime.invoke("bench-echo", event)
            invoke_ms.append((time.perf_counter() - t) * 1000)
        namespace: dict[str, Any] = {}
        exec(ECHO, namespace)  # the same handler, called directly
        direct_ms = []
        for _ in range(n):
            t = time.perf_counter()
            json.dumps(namespace["handler"](json.loads(event), None))
            direct_ms.append((time.perf_counter() - t) * 1000)
    finally:
        runtime.shutdown()
    return {"n": n, "invoke_p50_ms": pct(invoke_ms, 0.5), "invoke_p99_ms": pct(invoke_ms, 0.99),
            "direct_p50_ms": pct(direct_ms, 0.5), "direct_p99_ms": pct(direct_ms, 0.99)}


def cold_starts(runs: int) -> list[dict[str, Any]]:
    out = []
    for function in catalog.FUNCTIONS:
        init, first = [], []
        for _ in range(runs):
            runtime = LambdaRuntime(RealClock())
            seen: list[InvocationRecord] = []
            runtime.observers.append(seen.append)
            try:
                t = time.perf_counter()
                runtime.invoke(function.function_name, "{}")  # the event may be refused: init is what counts
                first.append((time.perf_counter() - t) * 1000)
                init.append(seen[-1].init_ms or 0.0)
            finally:
                runtime.shutdown()
        out.append({"function": function.logical_id, "init_median_ms": statistics.median(init),
                    "first_invoke_median_ms": statistics.median(first), "runs": runs})
    return sorted(out, key=lambda r: -r["init_median_ms"])


def api_init(runs: int) -> dict[str, Any]:
    api, minimal = [], []
    for _ in range(runs):
        runtime = LambdaRuntime(RealClock())
        seen: list[InvocationRecord] = []
        runtime.observers.append(seen.append)
        try:
            _create(runtime, "bench-minimal-api", MINIMAL_API, memory=512)
            runtime.invoke("bench-minimal-api", "{}")
            minimal.append(seen[-1].init_ms or 0.0)
            runtime.invoke("fleet-fleet-api", "{}")
            api.append(seen[-1].init_ms or 0.0)
        finally:
            runtime.shutdown()
    a, m = statistics.median(api), statistics.median(minimal)
    return {"runs": runs, "api_init_median_ms": a, "minimal_init_median_ms": m, "ratio": a / m if m else None}


def concurrent_in_process(n: int) -> dict[str, Any]:
    from workflows.demo.scenarios import Scenarios
    from workflows.local.cloud import LocalCloud

    with LocalCloud(virtual_time=True) as cloud:
        runs = Scenarios(cloud, prefix="BENCHENV")
        # Warm-up: a burst like the measured one, so its environments exist (the figure is the
        # warm throughput; the cold burst's is the first figure of concurrent_http's).
        for arn in [runs.start_register() for _ in range(64)]:
            cloud.wait(arn, timeout_s=600)
        cpu0, children0 = resource.getrusage(resource.RUSAGE_SELF), _children_cpu()
        t0 = time.perf_counter()
        arns = [runs.start_register() for _ in range(n)]
        statuses: dict[str, int] = {}
        for arn in arns:
            status = cloud.wait(arn, timeout_s=600)["status"]
            statuses[status] = statuses.get(status, 0) + 1
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        parent_cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
        env_cpu = _children_cpu() - children0
    return {"n": n, "wall_s": wall, "per_s": n / wall, "statuses": statuses, "parent_cpu_s": parent_cpu,
            "environments_cpu_s": env_cpu, "cores_used": (parent_cpu + env_cpu) / wall, "loadavg": os.getloadavg()}


def _children_cpu() -> float:
    """CPU of the environments (forked by the zygote, so not this process's children): from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if b"workflows.local.sandbox" in cmd:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def concurrent_http(n: int) -> dict[str, Any]:
    import importlib

    stack = importlib.import_module("tests.servers").fleet_up()
    try:
        def post(i: int, out: dict[int, str]) -> None:
            body = json.dumps({"vin": f"BENCHHTTP{i:08d}", "model": "Robotaxi S", "year": 2024, "seats": 4}).encode()
            req = urllib.request.Request(stack.api_url + "/cars", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as resp:
                out[i] = json.loads(resp.read())["execution_arn"]

        import boto3

        sfn = boto3.client("stepfunctions", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
        def burst(first: int, count: int) -> dict[str, Any]:
            arns: dict[int, str] = {}
            t0 = time.perf_counter()
            threads = [threading.Thread(target=post, args=(first + i, arns)) for i in range(count)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            accepted = time.perf_counter() - t0
            statuses: dict[str, int] = {}
            for arn in arns.values():
                while True:
                    status = sfn.describe_execution(executionArn=arn)["status"]
                    if status != "RUNNING":
                        break
                    time.sleep(0.05)
                statuses[status] = statuses.get(status, 0) + 1
            wall = time.perf_counter() - t0
            return {"n": count, "accepted": len(arns), "accept_s": accepted, "wall_s": wall,
                    "per_s": len(arns) / wall, "statuses": statuses}

        cold = burst(0, n)  # the environments start during this one (cold starts of every function)
        warm = burst(n, n)  # the same burst again, on the environments the first one left warm
    finally:
        stack.stop()
    return {"cold": cold, "warm": warm, "loadavg": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    q = args.quick
    figures: dict[str, Any] = {"loadavg_start": os.getloadavg(), "nproc": os.cpu_count()}
    steps = {
        "warm_overhead": lambda: warm_overhead(200 if q else 2000),
        "api_init": lambda: api_init(2 if q else 5),
        "cold_starts": lambda: cold_starts(1 if q else 3),
        "concurrent_in_process": lambda: concurrent_in_process(60 if q else 300),
        "concurrent_http": lambda: concurrent_http(60 if q else 300),
    }
    for name, step in steps.items():
        if args.only and name not in args.only.split(","):
            continue
        try:
            figures[name] = step()
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it never fails the build
            figures[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(name, json.dumps(figures[name], default=str)[:600], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "environments.json"
    if args.only and out.exists():  # a partial run updates its own figures and keeps the others
        figures = {**json.loads(out.read_text()), **figures}
    out.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
