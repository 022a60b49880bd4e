"""The concurrency lab: Lambda's classic concurrency experiments, run on the local runtime (real
execution environments, the runtime's own throttling and queueing) on a stepped virtual clock, so
minutes of Lambda time take seconds.

1. A function that works 20 s is called once a second, synchronously and asynchronously, with
   reserved concurrency 1 / provisioned 1, then reserved 20 / provisioned 10: which calls run
   (warm on a provisioned environment, or after a cold start), which are throttled (429), which
   wait in the asynchronous queue and when they run.
2. Lambda's asynchronous retries: an event whose function always fails is tried at 0 s, after
   about a minute and about two more, then handed to its on-failure destination.

The function's 20 s of work is a sleep on the lab's clock before its handler runs (the runtime's
fault hook, as `latency_s` in a faults file); the handler itself runs in an execution environment.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from workflows.definitions.catalog import Function
from workflows.local.clock import Clock
from workflows.local.lambda_runtime import InvocationRecord, LambdaRuntime

START = 1_700_000_000.0  # the lab's clock starts here (any fixed instant)
WORK_S = 20.0
CALLS = 30
FUNCTION = "lab-twenty-seconds"
FAILING = "lab-always-fails"


class SteppedClock(Clock):
    """A virtual clock that moves only when the lab steps it, and only once every piece of work
    on it is waiting: a sleep returns when the clock reaches its end, so concurrent work overlaps
    in virtual time as it would in real time. A step counts the sleepers it wakes as busy at once
    (they have work to do at that instant), and the work must stay settled for a moment of real
    time (a thread woken by another's notification gets to run first)."""

    virtual = True
    QUIET_S = 0.005

    def __init__(self) -> None:
        self._t = 0.0
        self._busy = 0
        self._cond = threading.Condition()
        self._local = threading.local()
        self._sleepers: dict[int, float] = {}  # token -> wake time
        self._woken: set[int] = set()
        self._tokens = 0

    def now(self) -> float:
        return START + self._t

    @property
    def elapsed(self) -> float:
        return self._t

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._cond:
            self._tokens += 1
            token = self._tokens
            self._sleepers[token] = self._t + seconds
            self._busy -= 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: token in self._woken)
            self._woken.discard(token)  # (counted busy again by the step that woke it)
        self._local.skipped = self.skipped_by_this_thread() + seconds

    def skipped_by_this_thread(self) -> float:
        return float(getattr(self._local, "skipped", 0.0))

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        if timeout is None:
            with self.waiting():
                return threading.Event.wait(event, None)
        with self._cond:
            target = self._t + max(timeout, 0)
        with self.waiting():
            while not event.is_set():
                with self._cond:
                    if self._t >= target:
                        return False
                    self._cond.wait(0.01)
        return True

    def track(self, work: Callable[[], None]) -> Callable[[], None]:
        with self._cond:
            self._busy += 1

        def tracked() -> None:
            try:
                work()
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

        return tracked

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._busy += 1

    def settle(self, timeout_s: float = 60.0) -> None:
        """Wait (in real time) until every piece of work is waiting on the clock or done, and
        stays so for QUIET_S."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._busy <= 0, timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"the lab's work did not settle ({self._busy} busy)")
            time.sleep(self.QUIET_S)
            with self._cond:
                if self._busy <= 0:
                    return

    def step_to(self, t: float) -> None:
        self.settle()
        with self._cond:
            self._t = max(self._t, t)
            for token, wake in list(self._sleepers.items()):
                if wake <= self._t:
                    del self._sleepers[token]
                    self._woken.add(token)
                    self._busy += 1
            self._cond.notify_all()
        self.settle()

    def advance(self, seconds: float) -> None:
        self.step_to(self._t + seconds)

    def next_wake(self) -> float | None:
        with self._cond:
            return min(self._sleepers.values(), default=None)


@dataclass
class Call:
    n: int
    kind: str  # "sync" or "async"
    at: float
    status: str = ""  # "200", "429", "202"
    started: float | None = None
    ended: float | None = None
    start: str = ""  # "provisioned", "warm", "cold"
    attempts: list[tuple[float, str]] = field(default_factory=list)  # (time, outcome) per async attempt

    def line(self) -> str:
        arrived = f"t={self.at:5.0f}s  call {self.n:2d} {self.kind:5s}"
        if self.status == "429":
            return f"{arrived}  429 TooManyRequestsException: throttled, not run"
        if self.started is None:
            return f"{arrived}  {self.status}  not run"
        waited = self.started - self.at
        wait = f"waited {waited:4.0f}s in the queue, " if waited >= 1 else ""
        return (f"{arrived}  {self.status}  {wait}ran {self.started:4.0f}-{self.ended or 0:4.0f}s "
                f"({self.start})")


@dataclass
class Experiment:
    title: str
    calls: list[Call]
    end: float

    def summary(self) -> str:
        out = []
        for kind in ("sync", "async"):
            calls = [c for c in self.calls if c.kind == kind]
            ran = [c for c in calls if c.started is not None]
            throttled = [c for c in calls if c.status == "429"]
            waited = [c for c in ran if c.started is not None and c.started - c.at >= 1]
            starts = {s: sum(1 for c in ran if c.start.startswith(s)) for s in ("provisioned", "warm", "cold")}
            last = max((c.ended or 0 for c in ran), default=0)
            out.append(f"{kind:5s}: {len(ran)} ran ({starts['provisioned']} on provisioned environments, "
                       f"{starts['warm']} warm, {starts['cold']} cold starts), {len(throttled)} throttled, "
                       f"{len(waited)} waited in the queue; last ended at {last:.0f}s")
        return "\n".join(out)


def _runtime(clock: SteppedClock) -> LambdaRuntime:
    def work(function: Function, event: Any, clock_: Clock) -> None:
        if function.function_name == FUNCTION:
            clock_.sleep(WORK_S)
        elif function.function_name == FAILING:
            raise RuntimeError("the lab's function always fails")

    runtime = LambdaRuntime(clock, fault_hook=work, async_workers=256, workers=64)
    runtime.observers.remove(next(o for o in runtime.observers if getattr(o, "__name__", "") == "echo_function_logs"))
    handler = "def handler(event, context):\n    return {'n': event.get('n')}\n"
    for name, timeout in ((FUNCTION, 30), (FAILING, 3)):
        runtime.functions.create({"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
                                  "Role": "arn:aws:iam::123456789012:role/lab", "Timeout": timeout,
                                  "Code": {"ZipFile": _zip(handler)}})
    return runtime


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def run_concurrency(reserved: int, provisioned: int, calls: int = CALLS) -> Experiment:
    """Calls once a second, synchronous then asynchronous (each on fresh environments)."""
    results: list[Call] = []
    end = 0.0
    for kind in ("sync", "async"):
        clock = SteppedClock()
        runtime = _runtime(clock)
        by_n: dict[int, Call] = {}
        records: dict[str, InvocationRecord] = {}
        runtime.observers.append(_keep(records))
        pool = ThreadPoolExecutor(max_workers=calls + 1)
        try:
            runtime.set_concurrency(FUNCTION, reserved=reserved, provisioned=provisioned)
            for n in range(1, calls + 1):
                call = by_n[n] = Call(n, kind, clock.elapsed)
                payload = json.dumps({"n": n})
                if kind == "sync":
                    pool.submit(clock.track(_sync(runtime, call, payload)))
                else:
                    runtime.invoke_async(FUNCTION, payload)
                    call.status = "202"
                clock.advance(1)
            while runtime.busy():
                wake = clock.next_wake()
                clock.step_to(wake if wake is not None else clock.elapsed + 1)
            _fill(by_n, records, runtime)
            end = max(end, clock.elapsed)
        finally:
            pool.shutdown(wait=True)
            runtime.shutdown()
        results.extend(by_n.values())
    title = f"a {WORK_S:.0f} s function called once a second ({calls} calls): reserved {reserved}, provisioned {provisioned}"
    return Experiment(title, results, end)


def _keep(records: dict[str, InvocationRecord]) -> Callable[[InvocationRecord], None]:
    def keep(record: InvocationRecord) -> None:
        records[record.request_id] = record

    return keep


def _sync(runtime: LambdaRuntime, call: Call, payload: str) -> Callable[[], None]:
    def run() -> None:
        call.status = str(runtime.invoke(FUNCTION, payload).status_code)

    return run


def _fill(by_n: dict[int, Call], records: dict[str, InvocationRecord], runtime: LambdaRuntime) -> None:
    """Each call's run from the runtime's records: start, end, and how its environment started."""
    provisioned = {e.log_stream for envs in runtime.environments._idle.values() for e in envs if e.provisioned}
    for record in records.values():
        if record.function.function_name != FUNCTION or record.outcome != "ok":
            continue
        call = by_n[int(json.loads(record.request)["n"])]
        call.ended = record.ended_at - START
        call.started = max(call.at, call.ended - record.duration_ms / 1000)
        call.start = "cold start" if record.init_ms is not None else (
            "provisioned environment" if record.log_stream in provisioned else "warm environment")


def run_retries() -> tuple[list[str], float]:
    """An asynchronous event whose function always fails: its attempts and the on-failure record."""
    clock = SteppedClock()
    runtime = _runtime(clock)
    lines: list[str] = []
    ended = threading.Event()

    def attempt(record: InvocationRecord) -> None:
        if record.function.function_name == FAILING:
            lines.append(f"t={record.ended_at - START:5.0f}s  attempt {len(lines) + 1}: the function failed (RuntimeError)")

    runtime.observers.append(attempt)

    def destination(record: dict[str, Any]) -> None:
        context = record["requestContext"]
        lines.append(f"t={clock.elapsed:5.0f}s  on-failure destination: {context['condition']}, "
                     f"{context['approximateInvokeCount']} attempts")
        ended.set()

    try:
        runtime.invoke_async(FAILING, json.dumps({"n": 1}), on_failure=destination)
        while not ended.is_set() and clock.elapsed < 3600:
            wake = clock.next_wake()
            clock.step_to(wake if wake is not None else clock.elapsed + 1)
    finally:
        runtime.shutdown()
    return lines, clock.elapsed


def report(out: Callable[[str], None], calls: int = CALLS) -> None:
    started = time.perf_counter()
    for reserved, provisioned in ((1, 1), (20, 10)):
        experiment = run_concurrency(reserved, provisioned, calls)
        out(f"\n== {experiment.title}")
        for kind in ("sync", "async"):
            out(f"-- {'synchronous (RequestResponse)' if kind == 'sync' else 'asynchronous (Event)'}")
            for call in experiment.calls:
                if call.kind == kind:
                    out("  " + call.line())
        out(experiment.summary())
    out("\n(The asynchronous queue keeps no order, as Lambda's does not: a waiting event runs when a slot frees.)")
    out("\n== asynchronous retries: an event whose function always fails")
    lines, _end = run_retries()
    for line in lines:
        out("  " + line)
    out(f"\n(lab time: virtual; this run took {time.perf_counter() - started:.1f} s of wall time)")
