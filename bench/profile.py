"""A profile of the register path: py-spy attaches to a process that registers cars one at a time
on the local cloud (bench/workloads.py register-loop), once it is warm (handlers imported, the ASL
parsed), and the samples of the loop are summed up by function and by package.

Only samples on the register path are kept: stacks through the caller's start/wait
(workflows/demo/scenarios.py), moto's Step Functions engine (an execution's threads: one per
execution, one per task), the adapter, or a Lambda handler's thread (workflows/local/
lambda_runtime.py, its thread pools); the cloud's shutdown is left out. Only the thread holding
the GIL is sampled (py-spy --gil): in one CPython process the GIL is what the threads of
concurrent executions share, so this is where the CPU time goes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ON_PATH = ("workflows/demo/scenarios.py", "/moto/stepfunctions/", "workflows/local/lambda_runtime.py",
           "workflows/local/adapter/", "concurrent/futures/thread.py")
PACKAGES = (  # leaf frame file -> where the time goes
    ("moto/stepfunctions", "moto: Step Functions engine"), ("moto/dynamodb", "moto: DynamoDB"),
    ("moto/events", "moto: EventBridge"), ("moto/sqs", "moto: SQS"), ("moto/", "moto: core, responses"),
    ("responses/", "responses (HTTP mock)"), ("botocore/", "botocore"), ("boto3/", "boto3"),
    ("aws_lambda_powertools/", "Powertools"), ("pydantic", "pydantic"), ("werkzeug/", "werkzeug"),
    ("antlr4/", "antlr4 (ASL parser)"), ("jsonpath", "jsonpath"), ("urllib3/", "urllib3"),
    ("/lambdas/", "fleet handlers (lambdas/)"), ("/workflows/", "fleet local cloud (workflows/)"),
    ("json/", "json (stdlib)"), ("threading.py", "threading (stdlib)"), ("copy.py", "copy (stdlib)"),
    ("/python3", "other stdlib"),
)


@dataclass
class Profile:
    samples: int = 0  # kept
    total_samples: int = 0
    no_python_frame: int = 0  # the GIL holder was in no Python code (py-spy saw an empty stack)
    rate: int = 0
    wall_s: float = 0.0
    self_time: Counter = field(default_factory=Counter)
    inclusive: Counter = field(default_factory=Counter)
    packages: Counter = field(default_factory=Counter)
    via: Counter = field(default_factory=Counter)  # "package <- the fleet or moto function that called into it"
    error: str | None = None


def py_spy() -> str | None:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def record(out: Path, n: int = 150, rate: int = 250, python: str = sys.executable) -> Profile:
    """Warm the register path up, attach py-spy, run n registrations, summarize the samples."""
    import json
    import time

    exe = py_spy()
    if exe is None:
        return Profile(error="py-spy is not installed (requirements/dev.txt)")
    result_file = Path(str(out) + ".json")
    target = subprocess.Popen(
        [python, str(ROOT / "bench" / "workloads.py"), "register-loop", "--n", str(n), "--handshake",
         "--out", str(result_file)],
        cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    spy = None
    try:
        if _read_until(target, "ready", timeout_s=300) is False:
            return Profile(error="the profiled workload did not get ready")
        spy = subprocess.Popen([exe, "record", "--pid", str(target.pid), "--gil", "--nonblocking", "--format", "raw",
                                "--rate", str(rate), "--full-filenames", "--output", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.0)  # attached
        if spy.poll() is not None:
            return Profile(error="py-spy could not attach: " + (spy.stdout.read() if spy.stdout else "").strip()[-300:])
        target.stdin.write("go\n")
        target.stdin.flush()
        _read_until(target, "done", timeout_s=900)
        target.stdin.close()
        target.wait(timeout=120)
        spy.wait(timeout=120)
    finally:
        for proc in (target, spy):
            if proc is not None and proc.poll() is None:
                proc.kill()
    if not out.exists():
        return Profile(error="py-spy wrote no samples")
    profile = summarize(out.read_text())
    profile.rate = rate
    try:
        profile.wall_s = json.loads(result_file.read_text())["wall_s"]
    except (OSError, ValueError, KeyError):
        pass
    return profile


def _read_until(proc: subprocess.Popen, word: str, timeout_s: float) -> bool:
    import threading

    seen = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            if line.strip() == word:
                seen.set()
                return

    threading.Thread(target=read, daemon=True).start()
    return seen.wait(timeout_s)


def _frame(text: str) -> tuple[str, str]:
    """`func (path/file.py:12)` or `func (path/file.py)` -> (func, path)."""
    if text.endswith(")") and " (" in text:
        func, _, where = text[:-1].rpartition(" (")
        return func, where.rsplit(":", 1)[0] if where.rsplit(":", 1)[-1].isdigit() else where
    return text, ""


def short(path: str) -> str:
    import re

    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if path.startswith(str(ROOT) + "/"):
        return path[len(str(ROOT)) + 1:]
    stdlib = re.search(r"/lib/python3\.\d+/(.*)$", path)
    return f"stdlib {stdlib.group(1)}" if stdlib else path


def summarize(raw: str) -> Profile:
    p = Profile()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        p.total_samples += n
        frames = [_frame(f) for f in stack.split(";")]
        if not stack.strip():
            p.no_python_frame += n
            continue
        if not any(marker in path for _, path in frames for marker in ON_PATH):
            continue
        p.samples += n
        func, path = frames[-1]
        p.self_time[f"{func} ({short(path)})"] += n
        for name in {f"{fn} ({short(pa)})" for fn, pa in frames}:
            p.inclusive[name] += n
        leaf = package_of(path)
        p.packages[leaf] += n
        caller = next((f"{fn} ({short(pa)})" for fn, pa in reversed(frames[:-1])
                       if package_of(pa) != leaf and any(m in pa for m in ("/moto/", "/workflows/", "/lambdas/"))),
                      None)
        p.via[f"{leaf} <- {caller}" if caller else leaf] += n
    return p


def package_of(path: str) -> str:
    return next((label for marker, label in PACKAGES if marker in path), "other")
