"""The cost model's arithmetic against AWS's published examples and pricing rules."""

from __future__ import annotations

import math

import pytest

from workflows.cost.model import (
    Prices,
    Units,
    Usage,
    bill,
    express_billed,
    gb_seconds,
    lambda_billed_ms,
    lambda_cost,
    tiered,
    units_of_call,
)

PRICES = Prices.load()
# The x86 rate of the list price table, and the same rate as the example page prints it.
X86_LIST = 0.0000166667
X86_AS_PRINTED = 0.00001667


def lambda_month(invocations: int, memory_mb: int, duration_ms: float, rate: float) -> float:
    prices = PRICES.with_lambda_rate("x86_64", rate)
    gb_s = invocations * gb_seconds(lambda_billed_ms(duration_ms), memory_mb)
    requests, compute = lambda_cost(invocations, gb_s, prices, "x86_64", free_tier=True)
    return requests + compute


def test_lambda_example_1_three_million_at_512_mb_for_1_s():
    """aws.amazon.com/lambda/pricing, example 1: 1,500,000 GB-s - 400,000 free = 1,100,000 GB-s
    ($18.34) + 2M billable requests ($0.40) = $18.74 a month."""
    assert round(lambda_month(3_000_000, 512, 1000, X86_AS_PRINTED), 2) == 18.74
    # At the full-precision list rate the compute part is $18.3334: $18.73, a cent under the
    # example, which rounds its unit price to $0.00001667.
    assert lambda_month(3_000_000, 512, 1000, X86_LIST) == pytest.approx(18.74, abs=0.011)
    assert round(lambda_month(3_000_000, 512, 1000, X86_LIST), 2) == 18.73


def test_lambda_example_2_thirty_million_at_128_mb_for_200_ms():
    """Example 2: 750,000 GB-s - 400,000 free = 350,000 GB-s ($5.83) + 29M requests ($5.80) = $11.63."""
    assert round(lambda_month(30_000_000, 128, 200, X86_AS_PRINTED), 2) == 11.63
    assert round(lambda_month(30_000_000, 128, 200, X86_LIST), 2) == 11.63


def test_the_price_file_holds_the_list_rates_and_arm_is_cheaper():
    tiers = PRICES.lam["duration_tiers_per_gb_second"]
    assert tiers["x86_64"][0]["price"] == X86_LIST
    assert tiers["arm64"][0]["price"] == 0.0000133334
    assert PRICES.lam["per_request"] * 1_000_000 == pytest.approx(0.20)
    assert (PRICES.lam["free_tier_requests"], PRICES.lam["free_tier_gb_seconds"]) == (1_000_000, 400_000)
    arm = lambda_cost(3_000_000, 1_500_000, PRICES, "arm64")
    x86 = lambda_cost(3_000_000, 1_500_000, PRICES, "x86_64")
    assert arm[0] == x86[0] and arm[1] == pytest.approx(1_100_000 * 0.0000133334) and arm[1] < x86[1]
    assert PRICES.as_of and PRICES.data["sources"]["lambda"].startswith("https://aws.amazon.com/")


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="architecture"):
        lambda_cost(1, 1, PRICES, "sparc")


def test_lambda_duration_is_rounded_up_to_the_millisecond():
    assert [lambda_billed_ms(x) for x in (0, 0.2, 1.0, 1.0001, 41.5)] == [1, 1, 1, 2, 42]
    assert gb_seconds(1000, 512) == 0.5


def test_volume_tiers():
    tiers = [{"up_to": 10, "price": 2.0}, {"up_to": 30, "price": 1.0}, {"up_to": None, "price": 0.5}]
    assert tiered(5, tiers, "up_to") == 10
    assert tiered(25, tiers, "up_to") == 20 + 15
    assert tiered(40, tiers, "up_to") == 20 + 20 + 5


def test_free_tier_is_optional():
    with_free = lambda_cost(500_000, 100_000, PRICES, "arm64", free_tier=True)
    without = lambda_cost(500_000, 100_000, PRICES, "arm64", free_tier=False)
    assert with_free == (0.0, 0.0)
    assert without == (pytest.approx(0.10), pytest.approx(100_000 * 0.0000133334))
    month = Usage(executions=1000, transitions=3000)
    assert bill(month, PRICES, "standard", free_tier=True).total == 0.0
    assert bill(month, PRICES, "standard", free_tier=False).total == pytest.approx(3000 * 0.000025)


def test_standard_bills_transitions_express_bills_requests_and_duration():
    """A million executions of 7 transitions, 42 ms each, 50.02 MB: Standard $175 (less 4,000
    free transitions); Express $1 of requests + 1M x 0.1 s x 64 MB = 6,250 GB-s (1.74 GB-hours
    at $0.06)."""
    ms, mb = express_billed(42, 50.02, PRICES)
    assert (ms, mb) == (100, 64)
    assert express_billed(101, 64.5, PRICES) == (200, 128)
    month = Usage(executions=1_000_000, transitions=7_000_000, express_gb_seconds=1_000_000 * gb_seconds(ms, mb))
    standard = bill(month, PRICES, "standard", free_tier=True)
    express = bill(month, PRICES, "express", free_tier=True)
    assert standard.by_service()["Step Functions"] == pytest.approx((7_000_000 - 4000) * 0.000025)
    assert express.by_service()["Step Functions"] == pytest.approx(1.0 + 6250 / 3600 * 0.06)
    assert express.total < standard.total


def test_express_duration_tiers():
    month = Usage(executions=100_000_000, express_gb_seconds=62_500_000)  # AWS's Express example 2: 17,361.11 GB-h
    express = bill(month, PRICES, "express", free_tier=False)
    duration = next(line.cost for line in express.lines if line.item == "Express duration")
    assert duration == pytest.approx(60.00 + 120.00 + 12_361.11 * 0.01642, abs=0.01)  # $382.97


def test_service_units():
    item = {"car_id": {"S": "car-" + "A" * 17}, "version": {"N": "1"}, "location": {"M": {"lat": {"N": "52.52"}}}}
    assert units_of_call("dynamodb", "putItem", {"Item": item}, {}) == Units(ddb_write_units=1)
    big = {"blob": {"S": "x" * 2500}}
    assert units_of_call("dynamodb", "PutItem", {"Item": big}, {}).ddb_write_units == 3
    assert units_of_call("dynamodb", "GetItem", {"ConsistentRead": True}, {"Item": item}).ddb_read_units == 1
    assert units_of_call("dynamodb", "GetItem", {}, {}).ddb_read_units == 0.5
    assert units_of_call("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"Item": item}}, {"Update": {"Key": {"car_id": {"S": "c"}}}}]}, {}).ddb_write_units == 4
    assert units_of_call("sqs", "sendMessage", {"MessageBody": {"x": "y" * 70_000}}, {}).sqs_requests == 2
    assert units_of_call("events", "putEvents", {"Entries": [{"Detail": "{}"}, {"Detail": "{}"}]}, {}).events == 2
    assert units_of_call("states", "startExecution", {}, {}) == Units()
    assert math.isclose(Units(1, 2, 3, 4).scaled(0.5).events, 2)
