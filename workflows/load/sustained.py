"""Sustained load: `fleet load`'s arrivals at a steady rate for a long time against a running
`fleet up`, with the server's memory sampled as it goes, so the trends can be judged: does RSS
keep growing after the warm-up, does latency drift, does every execution end accounted for.

Shared by the CI-sized test (tests/reliability/test_sustained.py: a few minutes, generous
bounds) and the benchmark (bench/sustained.py: 5 requests/s, 30 minutes on request)."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.load.driver import LoadPlan, LoadReport, LoadRun


def rss_mb(pid: int) -> float | None:
    """A process's resident set size in MB (Linux /proc; None where there is none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Window:
    """One slice of the run: when it ended, the server's RSS then, the requests sent in it."""

    end_s: float
    rss_mb: float | None
    requests: int
    p50_ms: float | None


@dataclass
class SustainedReport:
    rate: float
    duration_s: float
    warmup_s: float
    windows: list[Window] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)

    @property
    def rss_growth_mb_per_min(self) -> float | None:
        """The slope of RSS over time after the warm-up (least squares), in MB per minute."""
        points = [(w.end_s, w.rss_mb) for w in self.windows if w.end_s > self.warmup_s and w.rss_mb is not None]
        if len(points) < 2:
            return None
        slope = statistics.linear_regression([t for t, _ in points], [r for _, r in points]).slope
        return slope * 60

    @property
    def rss_ratio(self) -> float | None:
        """RSS at the end over RSS at the end of the warm-up."""
        after = [w.rss_mb for w in self.windows if w.end_s > self.warmup_s and w.rss_mb is not None]
        return after[-1] / after[0] if len(after) >= 2 and after[0] else None

    @property
    def p50_ratio(self) -> float | None:
        """Median request latency of the last window over that of the first."""
        timed = [w.p50_ms for w in self.windows if w.p50_ms is not None]
        return timed[-1] / timed[0] if len(timed) >= 2 and timed[0] else None

    def as_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "duration_s": self.duration_s, "warmup_s": self.warmup_s,
                "windows": [w.__dict__ for w in self.windows], "rss_growth_mb_per_min": self.rss_growth_mb_per_min,
                "rss_ratio": self.rss_ratio, "p50_ratio": self.p50_ratio, "load": self.load}


def sustained(api_url: str, server_pid: int, rate: float, duration_s: float, window_s: float = 60.0,
              warmup_s: float = 120.0, wait_s: float = 60.0, seed: int | None = 1) -> SustainedReport:
    """Drive `fleet load` at `rate` for `duration_s`; RSS sampled at the end of each window."""
    report = SustainedReport(rate, duration_s, warmup_s)
    run = LoadRun(LoadPlan(api_url, rate, duration_s, wait_s=wait_s, seed=seed))
    samples: list[tuple[float, float | None]] = []
    done = threading.Event()

    def sample() -> None:
        start = time.perf_counter()
        n = 1
        while not done.wait(max(0.0, start + n * window_s - time.perf_counter())):
            samples.append((n * window_s, rss_mb(server_pid)))
            n += 1
            if n * window_s > duration_s + 1e-6:
                break

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    load: LoadReport = run.run()
    done.set()
    sampler.join()
    for end_s, rss in samples:
        latencies = [s.answer.latency_s for s in run.sent
                     if s.answer is not None and s.answer.status and end_s - window_s <= s.sent_at < end_s]
        report.windows.append(Window(end_s, rss, len(latencies),
                                     round(statistics.median(latencies) * 1000, 1) if latencies else None))
    report.load = load.as_dict()
    return report
