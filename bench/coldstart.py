"""Cold start: each handler module of the catalog imported in a fresh interpreter,
`python -S -X importtime -c "import <module>"` with lambdas/ and the dependencies on PYTHONPATH, as
Lambda's init would. -S: the sys.path is the asset's (code and bundled dependencies), without the
development venv's .pth hooks (its editable-install finder alone adds ~10 ms to the first import).

The environment is the deployed function's: the catalog's variables, the Lambda runtime's own
(AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, LAMBDA_TASK_ROOT, ...), and no POWERTOOLS_TRACE_DISABLED (the
functions run with active tracing, so Powertools' Tracer loads the X-Ray SDK). The figure is the module's
cumulative import time as -X importtime reports it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ImportLine:
    self_us: int
    cumulative_us: int
    depth: int
    module: str


@dataclass
class ColdStart:
    module: str
    function: str
    runs_ms: list[float] = field(default_factory=list)
    process_ms: list[float] = field(default_factory=list)
    lines: list[ImportLine] = field(default_factory=list)  # of the median run
    error: str | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms) if self.runs_ms else float("nan")


def parse_importtime(stderr: str) -> list[ImportLine]:
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        try:
            self_us, cumulative, name = raw[len("import time:"):].split("|", 2)
            depth = (len(name) - len(name.lstrip(" ")) - 1) // 2  # one space after the bar, two per level
            lines.append(ImportLine(int(self_us), int(cumulative), depth, name.strip()))
        except ValueError:
            continue
    return lines


def lambda_environment(function_name: str, memory_mb: int, tracing: bool = True) -> dict[str, str]:
    from workflows.definitions import catalog
    from workflows.local.cloud import resolve

    fn = catalog.function_by_name(function_name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "_X_AMZN"))}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(ROOT / "lambdas"), *_dependency_paths()]),
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        # The runtime sets these too. LAMBDA_TASK_ROOT matters: without it the X-Ray SDK believes
        # it is not in Lambda and builds a centralized-sampling botocore client at import (~120 ms
        # that no Lambda init pays).
        "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"), "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": fn.handler, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000", "TZ": ":UTC",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    })
    for key, value in fn.environment.items():
        env[key] = resolve(value) if isinstance(value, catalog.Ref) else value
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def _dependency_paths() -> list[str]:
    """Where this interpreter finds the installed runtime dependencies (the venv's site-packages)."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def measure(module: str, function_name: str, memory_mb: int, runs: int = 5, python: str = sys.executable,
            tracing: bool = True) -> ColdStart:
    result = ColdStart(module, function_name)
    env = lambda_environment(function_name, memory_mb, tracing)
    outputs = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run([python, "-S", "-X", "importtime", "-c", f"import {module}"], cwd=str(ROOT / "lambdas"),
                              env=env, capture_output=True, text=True, timeout=120)
        wall = (time.perf_counter() - t) * 1000
        if proc.returncode != 0:
            result.error = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            return result
        lines = parse_importtime(proc.stderr)
        top = next((ln for ln in reversed(lines) if ln.depth == 0 and ln.module == module), None)
        if top is None:
            result.error = "no import time line for the module"
            return result
        result.runs_ms.append(top.cumulative_us / 1000)
        result.process_ms.append(wall)
        outputs.append((top.cumulative_us, lines))
    outputs.sort(key=lambda x: x[0])
    result.lines = outputs[len(outputs) // 2][1]
    return result


def handler_modules() -> list[tuple[str, str, int]]:
    """(module, function name, memory) of every catalog function, one per module."""
    from workflows.definitions import catalog

    seen: dict[str, tuple[str, str, int]] = {}
    for fn in catalog.FUNCTIONS:
        module = fn.handler.rsplit(".", 1)[0]
        seen.setdefault(module, (module, fn.function_name, fn.memory_mb))
    return list(seen.values())


def breakdown(result: ColdStart, top: int = 12) -> dict[str, list[tuple[str, float, float]]]:
    """The module's direct imports by cumulative time, and the modules with the most self time."""
    lines = result.lines
    end = max((i for i, ln in enumerate(lines) if ln.depth == 0 and ln.module == result.module), default=-1)
    start = max((i for i, ln in enumerate(lines[:end]) if ln.depth == 0), default=-1) + 1
    own = lines[start:end + 1]
    direct = sorted((ln for ln in own if ln.depth == 1), key=lambda ln: -ln.cumulative_us)[:top]
    by_self = sorted(own, key=lambda ln: -ln.self_us)[:top]
    total = own[-1].cumulative_us if own else 1
    return {
        "direct_imports": [(ln.module, ln.cumulative_us / 1000, 100 * ln.cumulative_us / total) for ln in direct],
        "self_time": [(ln.module, ln.self_us / 1000, 100 * ln.self_us / total) for ln in by_self],
    }
