"""Lambda execution environments for the local runtime: worker processes, one invocation at a time.

- `Zygote`: one per process, started in the background the first time a runtime is made (nothing
  waits for it until the first cold start). It preloads the shared dependencies and forks the
  environments (workflows/local/sandbox.py says why a zygote and not multiprocessing's forkserver).
- `Environment`: one forked process running one function: its own environment variables (the
  catalog's, resolved to local names, plus what Lambda sets), an init phase (the module's import,
  timed: Init Duration), its memory setting as a limit, invocations one at a time, and SIGKILL at
  its timeout so nothing it started runs afterwards.
- `EnvironmentPool`: the warm environments of one runtime, reused per function, at most
  `max_environments` processes in all (the oldest idle one is ended to make room).

The function is resolved by the caller (catalog.function_by_name, in this process); an
environment gets only the resolved handler, settings and variables.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflows.definitions import catalog
from workflows.definitions.catalog import Function
from workflows.local import sandbox

# Lambda's init phase may take up to 10 s; past it the environment is ended and the call fails.
INIT_TIMEOUT_S = 10.0
ZYGOTE_START_TIMEOUT_S = 60.0


class EnvironmentFailed(Exception):
    """The environment could not start or ended during an invocation (the payload says why)."""

    def __init__(self, payload: dict[str, Any]):
        super().__init__(payload.get("errorMessage", ""))
        self.payload = payload


class EnvironmentTimedOut(Exception):
    """The invocation ran to its deadline: the environment was ended."""


# --- the zygote ------------------------------------------------------------------------------


class Zygote:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._failed: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def start(self) -> None:
        """Start the zygote; returns at once (the preload runs in the background)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")}
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
            self._ready.clear()
            self._failed = None
            self._process = subprocess.Popen(
                [sys.executable, "-m", "workflows.local.sandbox", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=env, cwd=str(catalog.ROOT), stdin=subprocess.DEVNULL)
            theirs.close()
            self._control = ours
            threading.Thread(target=self._await_ready, args=(ours,), name="lambda-zygote", daemon=True).start()

    def _await_ready(self, control: socket.socket) -> None:
        try:
            control.settimeout(ZYGOTE_START_TIMEOUT_S)
            answer = control.recv(16)
            control.settimeout(None)
            if answer != b"ready":
                self._failed = "the Lambda runtime's zygote ended while loading"
        except OSError as exc:
            self._failed = f"the Lambda runtime's zygote did not start: {exc}"
        self._ready.set()

    def fork(self, spec: dict[str, Any]) -> tuple[int, socket.socket]:
        """A new environment process for `spec`, and the socket to it."""
        self.start()
        if not self._ready.wait(ZYGOTE_START_TIMEOUT_S) or self._failed:
            raise EnvironmentFailed({"errorType": "Runtime.Unknown",
                                     "errorMessage": self._failed or "the Lambda runtime's zygote did not start"})
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                assert self._control is not None
                socket.send_fds(self._control, [json.dumps(spec).encode()], [theirs.fileno()])
                (pid,) = struct.unpack("!i", self._control.recv(4))
        except OSError as exc:
            ours.close()
            raise EnvironmentFailed({"errorType": "Runtime.Unknown",
                                     "errorMessage": f"the Lambda runtime's zygote failed: {exc}"}) from None
        finally:
            theirs.close()
        return pid, ours

    def stop(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
            if self._process is not None:
                try:
                    self._process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                self._process = None


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote() -> Zygote:
    """The process's zygote, started (in the background) on first use."""
    global _zygote
    with _zygote_lock:
        if _zygote is None:
            _zygote = Zygote()
            atexit.register(_zygote.stop)
        _zygote.start()
        return _zygote


# --- the endpoint the functions call ----------------------------------------------------------

_endpoint_url: str | None = None


def functions_endpoint_url() -> str:
    """The AWS endpoint of this process's local cloud, as its functions call it (AWS_ENDPOINT_URL):
    served from this process's backends on a loopback port, started once per process (the
    backends it serves are whichever local cloud runs now: one at a time per process)."""
    global _endpoint_url
    with _zygote_lock:
        if _endpoint_url is None:
            from workflows.local.server import bind_aws_endpoint, url

            server = bind_aws_endpoint("127.0.0.1", 0)
            threading.Thread(target=server.serve_forever, name="functions-endpoint", daemon=True).start()
            _endpoint_url = url(server)
        return _endpoint_url


# --- one environment -------------------------------------------------------------------------


@dataclass
class InvokeResult:
    status: str  # "ok", "error" (the handler raised) or "oom"
    payload: bytes
    duration_ms: float
    max_memory_mb: int
    logs: list[str] = field(default_factory=list)
    calls: list[list[Any]] = field(default_factory=list)


class Environment:
    def __init__(self, function: Function, key: tuple[Any, ...], pid: int, conn: socket.socket):
        self.function = function
        self.key = key
        self.pid = pid
        self.conn = conn
        self.init_ms: float | None = None  # reported (and cleared) with the first invocation
        self.init_logs: list[str] = []
        self.last_used = time.monotonic()
        self.alive = True
        self.provisioned = False  # kept initialised (provisioned concurrency): never evicted
        # Its stream in the function's log group, named as Lambda names them.
        self.log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{pid:032x}"

    @classmethod
    def start(cls, function: Function, key: tuple[Any, ...], spec: dict[str, Any]) -> Environment:
        """Fork the environment and run its init phase (EnvironmentFailed if the init fails)."""
        pid, conn = zygote().fork(spec)
        env = cls(function, key, pid, conn)
        conn.settimeout(INIT_TIMEOUT_S)
        try:
            while True:
                kind, body = sandbox.recv_frame(conn)
                if kind == b"L":
                    env.init_logs.append(body.decode("utf-8", "replace"))
                elif kind == b"N":
                    env.init_ms = float(json.loads(body)["init_ms"])
                    return env
                elif kind == b"E":
                    env.kill()
                    raise EnvironmentFailed(json.loads(body))
        except TimeoutError:
            env.kill()
            raise EnvironmentFailed({"errorType": "Runtime.Unknown",
                                     "errorMessage": f"Init timed out after {INIT_TIMEOUT_S:.2f} seconds"}) from None
        except (EOFError, OSError):
            env.kill()
            raise EnvironmentFailed({"errorType": "Runtime.ExitError",
                                     "errorMessage": "RequestId: init Error: Runtime exited without providing a reason"}) from None

    def invoke(self, header: dict[str, Any], payload: bytes, timeout_s: float) -> InvokeResult:
        """One invocation, waited for at most `timeout_s` of wall time; past it the environment is
        killed (EnvironmentTimedOut). EnvironmentFailed if the process ends without an answer."""
        self.last_used = time.monotonic()
        started = time.perf_counter()
        logs: list[str] = []
        try:
            self.conn.settimeout(max(timeout_s, 0.001))
            sandbox.send_frame(self.conn, b"I", json.dumps(header).encode() + b"\n" + payload)
            deadline = time.monotonic() + timeout_s
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.conn.settimeout(remaining)
                kind, body = sandbox.recv_frame(self.conn)
                if kind == b"L":
                    logs.append(body.decode("utf-8", "replace"))
                elif kind == b"R":
                    result, answer = sandbox.split_header(body)
                    duration_ms = (time.perf_counter() - started) * 1000
                    self.last_used = time.monotonic()
                    if result["status"] == "oom":
                        self.kill()
                    return InvokeResult(result["status"], answer, duration_ms, int(result["max_memory_mb"]), logs,
                                        result.get("calls", []))
        except TimeoutError:
            self.kill()
            raise EnvironmentTimedOut() from None
        except (EOFError, OSError):
            self.kill()
            raise EnvironmentFailed({
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {header['request_id']} Error: Runtime exited without providing a reason",
            }) from None

    def kill(self) -> None:
        """End the environment now (SIGKILL: whatever the handler was doing stops here)."""
        if self.alive:
            self.alive = False
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.conn.close()


# --- the pool --------------------------------------------------------------------------------


class EnvironmentPool:
    """The environments of one runtime: idle ones kept warm per function and reused (the most
    recently used first, as Lambda does), at most `max_environments` processes in all, and no
    function more than half of them (or its reserved concurrency, if higher): a function whose
    calls wait on the others (the API's `?wait`) can never hold every environment while the
    functions it waits for find none. Past a limit an invocation waits for an environment (the
    machine's limit, not Lambda's: nothing is throttled for it) and its timeout starts once it has
    one."""

    def __init__(self, spec_for: Callable[[Function], dict[str, Any]], max_environments: int = 64):
        self._spec_for = spec_for
        self.max_environments = max_environments
        self._idle: dict[tuple[Any, ...], list[Environment]] = {}
        self._live = 0
        self._live_by_function: dict[str, int] = {}
        self._lock = threading.Condition()
        self._closed = False

    @staticmethod
    def key(function: Function) -> tuple[Any, ...]:
        env = tuple(sorted((k, str(v)) for k, v in function.environment.items()))
        return (function.logical_id, function.handler, function.memory_mb, function.timeout_s, env,
                getattr(function, "code_dir", ""))

    def limit_for(self, function: Function) -> int:
        return max(1, self.max_environments // 2, function.reserved_concurrency or 0)

    def acquire(self, function: Function) -> Environment:
        """A warm environment of the function, or a new one (its init run: a cold start)."""
        key = self.key(function)
        limit = self.limit_for(function)
        with self._lock:
            while True:
                if self._closed:
                    raise EnvironmentFailed({"errorType": "ServiceException", "errorMessage": "the local Lambda runtime stopped"})
                idle = self._idle.get(key)
                if idle:
                    return idle.pop()
                if self._live_by_function.get(key[0], 0) < limit and (self._live < self.max_environments or self._evict_one()):
                    self._count(key[0], +1)
                    break
                self._lock.wait(1.0)
        try:
            return Environment.start(function, key, self._spec_for(function))
        except BaseException:
            self._ended(key[0])
            raise

    def release(self, env: Environment) -> None:
        """Back to the warm pool after an invocation (or ended, if it died)."""
        if not env.alive:
            self._ended(env.key[0])
            return
        with self._lock:
            if self._closed:
                env.kill()
                self._count(env.key[0], -1)
            else:
                self._idle.setdefault(env.key, []).append(env)
            self._lock.notify_all()

    def discard(self, env: Environment) -> None:
        env.kill()
        self._ended(env.key[0])

    def _count(self, function: str, delta: int) -> None:
        """Lock held."""
        self._live += delta
        self._live_by_function[function] = self._live_by_function.get(function, 0) + delta

    def _ended(self, function: str) -> None:
        with self._lock:
            self._count(function, -1)
            self._lock.notify_all()

    def _evict_one(self) -> bool:
        """End the idle environment unused the longest, to make room (lock held)."""
        oldest: Environment | None = None
        for envs in self._idle.values():
            for env in envs:
                if not env.provisioned and (oldest is None or env.last_used < oldest.last_used):
                    oldest = env
        if oldest is None:
            return False
        self._idle[oldest.key].remove(oldest)
        oldest.kill()
        self._count(oldest.key[0], -1)
        return True

    def forget(self, function_name: str) -> None:
        """End the idle environments of a function that was deleted or given new code (those
        running finish their invocation; they are never reused: the code is part of the key)."""
        with self._lock:
            for key in [k for k in self._idle if k[0] == function_name]:
                for env in self._idle.pop(key):
                    env.kill()
                    self._count(key[0], -1)
            self._lock.notify_all()

    def idle_count(self, function: Function) -> int:
        with self._lock:
            return len(self._idle.get(self.key(function), []))

    def provision(self, function: Function, count: int) -> None:
        """Keep `count` environments of the function initialised (provisioned concurrency): started
        now, init run now (not reported by an invocation: they start warm), never evicted."""
        key = self.key(function)
        with self._lock:
            kept = [e for envs in self._idle.values() for e in envs if e.provisioned and e.key[0] == key[0]]
            for env in kept[count:]:
                env.provisioned = False
            missing = count - len(kept)
        for _ in range(max(0, missing)):
            with self._lock:
                self._count(key[0], +1)
            try:
                env = Environment.start(function, key, {**self._spec_for(function),
                                                        "initialization_type": "provisioned-concurrency"})
            except BaseException:
                self._ended(key[0])
                raise
            env.provisioned, env.init_ms = True, None
            self.release(env)

    def live_count(self, function: Function) -> int:
        with self._lock:
            return self._live_by_function.get(function.logical_id, 0)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for envs in self._idle.values():
                for env in envs:
                    env.kill()
                    self._count(env.key[0], -1)
            self._idle.clear()
            self._lock.notify_all()
