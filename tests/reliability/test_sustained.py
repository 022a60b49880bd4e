"""Sustained load, sized for CI: `fleet load`'s default mix at a steady rate for a few minutes
against a real `fleet up` with its state store (the default), the server's RSS sampled every
window. The trends are judged, with bounds generous enough for a shared machine: RSS does not
keep growing after the warm-up, the last window's median latency stays near the first's, and every
execution ends accounted for (succeeded, a domain outcome, or in the DLQ: none failing outside
it, none still running). `make bench` runs the same driver at 5 requests/s for longer against the
issue's targets (1 MB/min, 1.5x; bench/results/)."""

from __future__ import annotations

import pytest

from tests.servers import fleet_up
from workflows.load.sustained import sustained

RATE = 3.0  # requests/s
MINUTES = 4
WINDOW_S = 30.0
WARMUP_S = 60.0
# Bounds that catch a collapse (the server once grew 150 MB/min and its p50 went 11 ms -> 2.1 s
# in 13 minutes) or a leak like moto's record of every model instance (13 MB/min here before it
# was fixed), not the targets (1 MB/min, 1.5x): in the first minutes RSS still grows while the
# bounded parts fill (each log group's newest events, each metric's newest data, each table's
# items held as objects), and the items themselves grow with the data the load creates.
MAX_RSS_GROWTH_MB_PER_MIN = 12.0
MAX_P50_RATIO = 3.0


@pytest.fixture
def stack(tmp_path):
    stack = fleet_up("--state-dir", str(tmp_path / "state"))
    yield stack
    stack.stop()


def test_a_few_minutes_of_steady_load_stay_flat_and_account_for_every_execution(stack):
    report = sustained(stack.api_url, stack.process.pid, RATE, MINUTES * 60, window_s=WINDOW_S,
                       warmup_s=WARMUP_S, wait_s=120)
    windows = [(w.end_s, w.rss_mb, w.p50_ms) for w in report.windows]
    executions = report.load["executions"]
    print(f"\nsustained {RATE}/s for {MINUTES} min: windows (end s, RSS MB, p50 ms) {windows}; "
          f"RSS growth {report.rss_growth_mb_per_min} MB/min; p50 ratio {report.p50_ratio}; executions {executions}")

    assert executions["started"] > RATE * MINUTES * 60 * 0.5, executions  # the load really ran
    assert (executions["still_running"], executions["failed_not_in_dlq"]) == (0, 0), executions
    assert report.rss_growth_mb_per_min is not None and report.rss_growth_mb_per_min <= MAX_RSS_GROWTH_MB_PER_MIN, windows
    assert report.p50_ratio is not None and report.p50_ratio <= MAX_P50_RATIO, windows
