"""`fleet cost` end to end: a local sample, and one execution at a running `fleet up`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.servers import ROOT, fleet_up


def fleet(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_cost_of_a_register_sample_as_json():
    out = fleet("cost", "--workflow", "register", "--sample", "2", "--per-month", "1000000", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    [row] = result["workflows"]
    assert row["workflow"] == "register" and row["executions_priced"] == 2
    assert row["per_execution"]["state_transitions"] == 7
    m = row["monthly_before_free_tier"]
    assert m["standard_by_service"]["Step Functions"] == pytest.approx(175.0)
    assert m["express"] < m["standard"] < m["standard_with_lambdas_for_integrations"]
    assert result["architecture"] == "arm64" and result["free_tier"] is True
    assert result["prices"]["as_of"] and result["prices"]["file"] == "workflows/cost/prices_us_east_1.json"
    assert result["totals"]["standard"]["free_tier"] < 0


def test_cold_starts_add_the_measured_init_duration():
    """The INIT phase is billed (on-demand ZIP functions, since August 2025): every invocation cold
    costs each function's measured Init Duration more than none cold, and the table says so."""
    runs = {}
    for pct in ("0", "100"):
        out = fleet("cost", "--workflow", "register", "--sample", "1", "--cold-start-pct", pct, "--json")
        assert out.returncode == 0, out.stderr
        runs[pct] = json.loads(out.stdout)
    none, every = runs["0"], runs["100"]
    assert none["cold_start_rate"] == 0 and every["cold_start_rate"] == 1
    assert none["workflows"][0]["per_execution"]["lambda_init_gb_seconds"] == 0
    init = every["workflows"][0]["per_execution"]["lambda_init_gb_seconds"]
    validate = every["profiles"]["ValidateCar"]
    assert validate["cold_starts"] >= 1 and validate["init_ms"] > 0 and validate["billed_ms"] >= 1
    assert init >= validate["init_ms"] / 1000 * validate["memory_mb"] / 1024
    assert every["workflows"][0]["per_execution"]["lambda_invocations_measured"] == 4  # two tasks, two consumers
    bad = fleet("cost", "--cold-start-pct", "101")
    assert bad.returncode == 2 and bad.stderr.strip() == "fleet: --cold-start-pct must be 0 to 100"


def test_cost_table_and_bad_input():
    out = fleet("cost", "--workflow", "register", "--sample", "1", "--no-free-tier", "--arch", "x86_64")
    assert out.returncode == 0, out.stderr
    assert "Standard" in out.stdout and "Express" in out.stdout and "x86_64" in out.stdout
    assert "free tier off" in out.stdout
    assert "mean Init Duration ms" in out.stdout and "Lambda INIT: billed" in out.stdout
    bad = fleet("cost", "--workflow", "nope")
    assert bad.returncode == 2 and bad.stderr.startswith("fleet: unknown workflow")


def test_cost_of_one_execution_at_a_running_stack():
    stack = fleet_up()
    try:
        car = {"vin": "5YJ3E1EA7KF317999", "model": "Robotaxi S", "year": 2024, "seats": 4}
        run = fleet("run", "register", "--input", json.dumps(car), "--endpoint-url", stack.aws_endpoint, "--no-wait")
        assert run.returncode == 0, run.stderr
        arn = run.stdout.strip()
        subprocess.run([sys.executable, "-m", "workflows", "run", "register", "--input", json.dumps(car),
                        "--endpoint-url", stack.aws_endpoint], cwd=ROOT, capture_output=True, timeout=60)
        out = fleet("cost", "--execution", arn, "--endpoint-url", stack.aws_endpoint, "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        [row] = result["workflows"]
        assert row["workflow"] == "register" and row["per_execution"]["state_transitions"] == 7
        assert result["source"]["execution_arn"] == arn
        # Its functions' billed and Init Durations: the stack's own REPORT lines (its CloudWatch Logs).
        assert {"ValidateCar", "InspectCar"} <= set(result["source"]["durations_from_report_lines_of"])
        assert result["profiles"]["ValidateCar"]["cold_starts"] >= 1
        missing = fleet("cost", "--execution", arn + "x", "--endpoint-url", stack.aws_endpoint)
        assert missing.returncode == 3 and missing.stderr.startswith("fleet: ")
    finally:
        stack.stop()
