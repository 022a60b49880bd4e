"""Dispatch benchmarks (`make bench-dispatch`, also `python bench/dispatch.py [--quick]`), written to
bench/results/dispatch.md and dispatch.json:

- FindCandidates at 100, 1,000 and 10,000 AVAILABLE cars spread over a city (Berlin, about 35 by
  40 km): items its Queries read per dispatch and the local p50 latency, for the same pickups;
- a busy pickup: 70 rides requested at once at one pickup with 150 free cars nearby, run through
  the dispatch workflow: how many end NoCarAvailable;
- the heartbeat race: trips reported as their heartbeat deadline passes: outcomes the caller was
  told against how the execution ended (inconsistent must be 0).

A benchmark reports; it never fails the build.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / "lambdas"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

RESULTS = ROOT / "bench" / "results"
CITY = {"lat": (52.34, 52.66), "lon": (13.09, 13.76)}


def _car_item(n: int, lat: float, lon: float) -> dict[str, Any]:
    from fleet_domain.data.base import item
    from fleet_domain.rules.geo import AREA_PRECISION, geohash

    now = "2026-01-01T00:00:00Z"
    return item({"car_id": f"car-BENCH{n:012d}", "vin": f"BENCH{n:012d}", "model": "Robotaxi S", "year": 2024,
                 "seats": 4, "status": "AVAILABLE", "location": {"lat": lat, "lon": lon}, "cell": geohash(lat, lon),
                 "area": geohash(lat, lon, AREA_PRECISION),
                 "battery_pct": 90, "odometer_km": 1000, "km_since_service": 100, "version": 2,
                 "created_at": now, "updated_at": now})


def _fill(ddb: Any, table: str, cars: list[tuple[float, float]], start: int = 0) -> None:
    for i in range(0, len(cars), 25):
        batch = [{"PutRequest": {"Item": _car_item(start + i + j, lat, lon)}} for j, (lat, lon) in enumerate(cars[i:i + 25])]
        ddb.batch_write_item(RequestItems={table: batch})


def bench_find_candidates(sizes: list[int], pickups: int) -> dict[str, Any]:
    from fleet_domain.data.cars import CarRepository
    from fleet_domain.logic.dispatch import find_candidates
    from workflows.definitions import catalog
    from workflows.local.cloud import LocalCloud

    rng = random.Random(14)
    points = [(rng.uniform(*CITY["lat"]), rng.uniform(*CITY["lon"])) for _ in range(max(sizes))]
    where = [(rng.uniform(52.45, 52.56), rng.uniform(13.3, 13.5)) for _ in range(pickups)]  # the inner city
    table = catalog.table("Cars").table_name
    out: dict[str, Any] = {}
    with LocalCloud(virtual_time=True) as cloud:
        ddb = cloud.client("dynamodb")
        cars = CarRepository(ddb, cars_table=table)
        filled = 0
        for size in sizes:
            _fill(ddb, table, points[filled:size], start=filled)
            filled = size
            read, times, found = [], [], []
            for n, (lat, lon) in enumerate(where):
                event = {"ride_id": f"bench-{size}-{n}", "pickup": {"lat": lat, "lon": lon},
                         "dropoff": {"lat": 52.5, "lon": 13.4}, "passengers": 2}
                started = time.perf_counter()
                result = find_candidates(event, cars)
                times.append((time.perf_counter() - started) * 1000)
                read.append(result.items_read)
                found.append(result.count)
            out[str(size)] = {"items_read_mean": round(statistics.mean(read), 1), "items_read_max": max(read),
                              "p50_ms": round(statistics.median(times), 2), "candidates_mean": round(statistics.mean(found), 2)}
    small, large = out[str(sizes[0])], out[str(sizes[-1])]
    out["ratio_items_read"] = round(large["items_read_mean"] / max(small["items_read_mean"], 1e-9), 2)
    out["ratio_p50"] = round(large["p50_ms"] / max(small["p50_ms"], 1e-9), 2)
    return out


def bench_busy_pickup(rides: int, cars: int) -> dict[str, Any]:
    from tests.conftest import Fleet
    from tests.workflows.fleet_steps import TripCompleter
    from workflows.definitions import catalog
    from workflows.local.cloud import LocalCloud
    from workflows.targets import stepfunctions

    rng = random.Random(70)
    pickup = {"lat": 52.5200, "lon": 13.4050}
    nearby = [(pickup["lat"] + rng.uniform(-0.01, 0.01), pickup["lon"] + rng.uniform(-0.015, 0.015)) for _ in range(cars)]
    with LocalCloud(virtual_time=True) as cloud:
        fleet = Fleet(cloud)
        _fill(fleet.ddb, catalog.table("Cars").table_name, nearby)
        started = time.perf_counter()
        with TripCompleter(fleet):
            arns = [fleet.start("dispatch", {"ride_id": f"busy-{n:03d}", "pickup": pickup,
                                             "dropoff": {"lat": 52.50, "lon": 13.35}, "passengers": 2})
                    for n in range(rides)]
            results = [stepfunctions.describe(fleet.sfn, arn, cloud.wait(arn, 300)) for arn in arns]
        elapsed = time.perf_counter() - started
        available = sum(1 for c in fleet.items("Cars") if c["status"] == "AVAILABLE")
    outcomes = Counter((r.output or {}).get("outcome") if r.status == "SUCCEEDED" else f"{r.status} {r.error}"
                       for r in results)
    return {"rides": rides, "cars": cars, "outcomes": dict(outcomes), "no_car_available": outcomes.get("NoCarAvailable", 0),
            "cars_available_after": available, "wall_s": round(elapsed, 1)}


def bench_heartbeat_race(trials: int) -> dict[str, Any]:
    from tests.conftest import Fleet
    from tests.workflows.fleet_steps import car_request, register
    from tests.workflows.test_heartbeat_race import race
    from workflows.local.cloud import LocalCloud

    with LocalCloud(virtual_time=True) as cloud:
        fleet = Fleet(cloud)
        register(fleet, *(car_request(n) for n in range(trials)))
        outcomes = Counter(race(fleet, f"race-{n}") for n in range(trials))
    consistent = {("completed", "TripCompleted"), ("refused", "CarHeartbeatLost")}
    return {"trials": trials, "outcomes": {f"{told} -> {ended}": n for (told, ended), n in outcomes.items()},
            "inconsistent": sum(n for o, n in outcomes.items() if o not in consistent)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small samples, to try the harness")
    args = parser.parse_args(argv)
    quick = args.quick
    results: dict[str, Any] = {}
    steps = {
        "find_candidates": lambda: bench_find_candidates([100, 1000] if quick else [100, 1000, 10000], 10 if quick else 50),
        "busy_pickup": lambda: bench_busy_pickup(20 if quick else 70, 50 if quick else 150),
        "heartbeat_race": lambda: bench_heartbeat_race(10 if quick else 100),
    }
    for name, fn in steps.items():
        print(f"{name} ...", file=sys.stderr, flush=True)
        try:
            results[name] = fn()
        except Exception as exc:  # noqa: BLE001 - a benchmark that breaks is reported, not raised
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"{name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dispatch.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "dispatch.md").write_text(_report(results, quick))
    return 0


def _report(r: dict[str, Any], quick: bool) -> str:
    lines = [f"# Dispatch benchmarks{' (quick)' if quick else ''}", "",
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python bench/dispatch.py{' --quick' if quick else ''}`", ""]
    fc = r.get("find_candidates", {})
    lines += ["## FindCandidates by fleet size (cars spread over Berlin, pickups in the inner city)", "",
              "| AVAILABLE cars | items read per dispatch (mean / max) | candidates | p50 |", "|---|---|---|---|"]
    for size, v in fc.items():
        if isinstance(v, dict):
            lines.append(f"| {int(size):,} | {v['items_read_mean']} / {v['items_read_max']} | {v['candidates_mean']} | {v['p50_ms']} ms |")
    if "ratio_items_read" in fc:
        lines += ["", f"Largest vs smallest fleet: items read x{fc['ratio_items_read']}, p50 x{fc['ratio_p50']} (target: within 1.5x)."]
    if "error" in fc:
        lines += ["", f"error: {fc['error']}"]
    bp = r.get("busy_pickup", {})
    lines += ["", "## Busy pickup", "", f"```\n{json.dumps(bp, indent=2)}\n```", "(target: 0 NoCarAvailable)"]
    hr = r.get("heartbeat_race", {})
    lines += ["", "## Heartbeat race", "", f"```\n{json.dumps(hr, indent=2)}\n```", "(target: 0 inconsistent)", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
