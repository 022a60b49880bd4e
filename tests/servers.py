"""Start a real `fleet up` in its own process on free loopback ports, for HTTP tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    process: subprocess.Popen
    aws_endpoint: str
    api_url: str
    banner: str

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


def fleet_up(*extra: str, env: dict | None = None, ports: tuple[int, int] | None = None) -> Stack:
    aws_port, api_port = ports or (free_port(), free_port())
    if "--state-dir" not in extra and "--ephemeral" not in extra:
        extra = (*extra, "--ephemeral")  # a test's stack keeps nothing, unless it asks for a state directory
    proc = subprocess.Popen(
        [sys.executable, "-m", "workflows", "up", "--aws-port", str(aws_port), "--api-port", str(api_port), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})},
    )
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "ready" in line or proc.poll() is not None:
            break
    if proc.poll() is not None:
        raise RuntimeError("fleet up did not start:\n" + "".join(lines))
    # Keep draining its output so a chatty server never blocks on a full pipe.
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return Stack(proc, f"http://127.0.0.1:{aws_port}", f"http://127.0.0.1:{api_port}", "".join(lines))
