"""Lambda priced from measured figures: each function's Billed Duration and Init Duration (its
REPORT lines, as the execution environments wrote them), the INIT phase billed as AWS bills it
since August 2025 (on-demand ZIP functions on a managed runtime), a timeout billed as the
history shows it."""

from __future__ import annotations

import pytest

from workflows.cost.meter import Meter
from workflows.cost.model import (
    DEFAULT_COLD_START_RATE,
    ExecutionUsage,
    FunctionProfile,
    LambdaRun,
    Prices,
    gb_seconds,
)
from workflows.cost.reports import parse_report, percentile, read_reports
from workflows.definitions import catalog

PRICES = Prices.load()


def one_run(duration_ms: float, error: str | None = None) -> ExecutionUsage:
    ex = ExecutionUsage("register", "arn", "SUCCEEDED", 100.0, transitions=1, states=1, retries=0)
    ex.lambdas = [LambdaRun("InspectCar", "InspectCar", 512, duration_ms, True, error)]
    return ex


def test_the_measured_billed_duration_replaces_the_historys():
    ex = one_run(duration_ms=900.0)  # the engine saw 900 ms (queues, the machine's load)
    measured = {"InspectCar": FunctionProfile("InspectCar", invocations=4, billed_ms_total=40.0)}
    assert ex.usage({}, PRICES).lambda_gb_seconds == pytest.approx(gb_seconds(900, 512))
    u = ex.usage(measured, PRICES, cold_start_rate=0.0)
    assert u.lambda_gb_seconds == pytest.approx(gb_seconds(10, 512))
    assert u.lambda_measured_invocations == 1 and u.lambda_init_gb_seconds == 0


def test_init_is_billed_for_the_share_of_cold_starts():
    ex = one_run(duration_ms=900.0)
    profile = FunctionProfile("InspectCar", invocations=4, billed_ms_total=40.0, init_ms_total=2 * 120.4, cold_starts=2)
    assert profile.init_ms == pytest.approx(120.4)
    every = ex.usage({"InspectCar": profile}, PRICES, cold_start_rate=1.0)
    assert every.lambda_init_gb_seconds == pytest.approx(gb_seconds(121, 512))  # whole ms, rounded up
    assert every.lambda_gb_seconds == pytest.approx(gb_seconds(10 + 121, 512))
    typical = ex.usage({"InspectCar": profile}, PRICES)
    assert DEFAULT_COLD_START_RATE == 0.01
    assert typical.lambda_init_gb_seconds == pytest.approx(gb_seconds(1.21, 512))
    none_seen = FunctionProfile("InspectCar", invocations=4, billed_ms_total=40.0)
    assert ex.usage({"InspectCar": none_seen}, PRICES, cold_start_rate=1.0).lambda_init_gb_seconds == 0


def test_a_timed_out_invocation_bills_its_timeout_not_the_mean():
    ex = one_run(duration_ms=30_000.0, error="Sandbox.Timedout")
    measured = {"InspectCar": FunctionProfile("InspectCar", invocations=4, billed_ms_total=40.0)}
    u = ex.usage(measured, PRICES, cold_start_rate=0.0)
    assert u.lambda_gb_seconds == pytest.approx(gb_seconds(30_000, 512)) and u.lambda_measured_invocations == 0


def test_report_lines_round_trip_and_percentiles():
    cold = parse_report("REPORT RequestId: 3f1c\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
                        "Max Memory Used: 61 MB\tInit Duration: 140.20 ms\t")
    assert cold is not None and (cold.request_id, cold.duration_ms, cold.billed_ms, cold.memory_mb, cold.max_memory_mb,
                                 cold.init_ms) == ("3f1c", 12.34, 13, 256, 61, 140.2)
    warm = parse_report("REPORT RequestId: 9a\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB\t"
                        "Max Memory Used: 61 MB\t")
    assert warm is not None and not warm.cold and warm.init_ms is None
    assert parse_report("START RequestId: 9a Version: $LATEST") is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0 and percentile(list(map(float, range(1, 101))), 99) == 99.0
    assert percentile([], 50) is None


def test_the_meter_and_the_log_groups_agree_on_what_was_billed(cloud):
    """The meter's profile (the runtime's records) and the REPORT lines in CloudWatch Logs are the
    same figures; the Init Duration measured in a warm-up survives the meter's reset."""
    from workflows.demo.scenarios import Scenarios

    with Meter(cloud) as meter:
        runs = Scenarios(cloud, prefix="MEASCAR")
        runs.register()
        meter.settle()
        meter.reset()
        runs.register()
        meter.settle()
        profiles = meter.profiles()
    validate = profiles["ValidateCar"]
    assert validate.invocations == 1
    assert validate.cold_starts >= 1 and validate.init_ms > 0  # from the warm-up, kept by reset
    cloud.telemetry.flush()
    reports = read_reports(cloud.client("logs"), catalog.function("ValidateCar").function_name)
    assert len(reports) >= 2
    assert reports[-1].billed_ms == validate.billed_ms  # the last invocation is the one measured after reset
    assert reports[0].cold and reports[0].init_ms is not None and reports[0].init_ms == pytest.approx(
        validate.init_ms, abs=0.01)
    assert read_reports(cloud.client("logs"), "fleet-no-such-function") == []
