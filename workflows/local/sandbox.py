"""The inside of a Lambda execution environment, and the zygote that forks them.

    python -m workflows.local.sandbox CONTROL_FD

The zygote is a fresh interpreter (never a fork of the local cloud's process, which runs moto
and dozens of threads) that imports the functions' shared dependencies once (boto3, botocore's
service models, pydantic, Powertools) and then forks one child per execution environment on
request. A fork of a preloaded parent costs a few milliseconds; the child then runs the init
phase (imports the function's module, measured: Init Duration) and serves one invocation at a
time over its own socket until the local runtime ends it.

Why a zygote rather than multiprocessing's forkserver: forkserver forks a fresh child per
Process and pickles a Process object to it, then runs multiprocessing's bootstrap; here the
request is a few hundred bytes of JSON plus the socket (SCM_RIGHTS) and the child goes straight
into its loop (measured in bench/: the fork-to-ready part of a cold start).

Frames on an environment's socket: 4-byte length, 1-byte kind, body. Parent to child: `I`
(invoke: a JSON header line, then the event's bytes). Child to parent: `N` (init done: JSON),
`E` (init failed: Lambda's error payload), `L` (a log line the function wrote), `R` (result: a
JSON header line, then the payload's bytes).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import resource
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from typing import Any

HEADER = struct.Struct("!IB")
MB = 1024 * 1024

# What every function imports and the zygote loads once (the shared layer of a cold start).
PRELOAD = (
    "boto3",
    "botocore.session",
    "botocore.client",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.serialize",
    "botocore.auth",
    "botocore.httpsession",
    "boto3.dynamodb.types",
    "pydantic",
    "pydantic_settings",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.event_handler.openapi.models",  # REST validation's models (~0.9 s to build)
    "aws_lambda_powertools.event_handler.openapi.params",
    "aws_lambda_powertools.event_handler.openapi.dependant",
    "aws_xray_sdk.core",  # what Powertools' Tracer patches botocore with, at a function's first client
    "aws_xray_sdk.ext.botocore.patch",
)


# --- frames ----------------------------------------------------------------------------------


def send_frame(sock: socket.socket, kind: bytes, body: bytes) -> None:
    sock.sendall(HEADER.pack(len(body), kind[0]) + body)


def recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the socket")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> tuple[bytes, bytes]:
    size, kind = HEADER.unpack(recv_exact(sock, HEADER.size))
    return bytes([kind]), recv_exact(sock, size) if size else b""


def split_header(body: bytes) -> tuple[dict[str, Any], bytes]:
    line, _, rest = body.partition(b"\n")
    header: dict[str, Any] = json.loads(line)
    return header, rest


# --- the zygote ---

SERVICES = ("dynamodb", "sqs", "events", "stepfunctions")


def share_botocore_data() -> None:
    """Botocore's data (service models, endpoints, partitions) parsed once, in the zygote, and
    shared by every session an environment makes: each boto3 Session otherwise gets a loader of
    its own and parses the JSON again (about 0.3 s per session here). The one reach into
    botocore: `botocore.session.create_loader`, the factory a session calls for its data loader
    (tests/workflows/test_execution_environments.py fails if an upgrade moves it)."""
    import boto3
    import botocore.session
    from botocore import loaders

    shared = loaders.create_loader()
    original = botocore.session.create_loader

    def create_loader(search_path_string: str | None = None) -> Any:
        return shared if not search_path_string else original(search_path_string)

    botocore.session.create_loader = create_loader
    # A whole client made once, so its lazy imports and the models are loaded here.
    warm = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    for service in SERVICES:
        warm.client(service, endpoint_url="http://127.0.0.1:9")


# ------------------------------------------------------------------------------------------


def zygote(control: socket.socket) -> None:
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:  # an optional part of a library: the function imports what it needs
            pass
    share_botocore_data()
    try:  # the runtime's own telemetry (the billable units of each SDK call), not the function's init
        import workflows.cost.model
        import workflows.local.call_log  # noqa: F401
    except ImportError:
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control.send(b"ready")
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)  # the local cloud's process ended
        spec = json.loads(message)
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                environment(spec, socket.socket(fileno=fds[0]))
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        control.send(struct.pack("!i", pid))


# --- an execution environment -----------------------------------------------------------------


class _LogWriter(io.RawIOBase):
    """The function's stdout and stderr: every line becomes an `L` frame to the local runtime
    (which writes it to the function's log group), as Lambda's runtime captures them."""

    def __init__(self, sock: socket.socket, lock: threading.Lock):
        self._sock, self._lock = sock, lock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        if data:
            with self._lock:
                send_frame(self._sock, b"L", data)
        return len(data)


class Context:
    """The context object Lambda passes to a handler."""

    def __init__(self, header: dict[str, Any]):
        self.function_name = header["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = header["function_arn"]
        self.memory_limit_in_mb = header["memory_mb"]
        self.aws_request_id = header["request_id"]
        self.log_group_name = header["log_group"]
        self.log_stream_name = header["log_stream"]
        self.identity = None
        self.client_context = None
        self._deadline = float(header["deadline"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def error_payload(exc: BaseException, error_type: str | None = None, request_id: str | None = None,
                  runtime_files: tuple[str, ...] = ()) -> dict[str, Any]:
    """Lambda's Python runtime's answer for an exception, keys in its order (errorMessage,
    errorType, requestId, stackTrace); the trace starts in the function's code, not the runtime's."""
    payload: dict[str, Any] = {"errorMessage": str(exc), "errorType": error_type or type(exc).__name__}
    if request_id is not None:
        payload["requestId"] = request_id
    skip = (__file__, *runtime_files)
    payload["stackTrace"] = [f for f in traceback.format_tb(exc.__traceback__) if not any(s in f for s in skip)]
    return payload


def error_json(payload: dict[str, Any]) -> bytes:
    """An error payload as Lambda writes it: compact JSON, what Step Functions shows as the Cause
    (AWS's recorded `{"errorMessage":"...","errorType":"Exception","requestId":"...",...}`)."""
    return _json(payload)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


def _limit_memory(memory_mb: int) -> None:
    """The function's memory setting as a limit on the process's data segment (heap and
    anonymous mappings, what Python's objects live in): past it an allocation fails, the
    invocation ends with Runtime.OutOfMemory and the environment with it. The limit is counted
    on top of the preloaded runtime's own data (the interpreter and the shared libraries, which
    on Lambda belong to the runtime's image, not the function's memory)."""
    baseline = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    baseline = int(line.split()[1]) * 1024
    except OSError:
        pass
    limit = baseline + memory_mb * MB
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def max_memory_used_mb() -> int:
    return max(1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def environment(spec: dict[str, Any], sock: socket.socket) -> None:
    os.environ.clear()
    os.environ.update(spec["env"])
    if spec.get("initialization_type"):
        os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = spec["initialization_type"]
    sys.path[:0] = [p for p in spec["path"] if p not in sys.path]
    os.chdir(spec["task_root"])
    lock = threading.Lock()
    out = io.TextIOWrapper(io.BufferedWriter(_LogWriter(sock, lock)), encoding="utf-8", line_buffering=True,
                           errors="backslashreplace")
    sys.stdout = sys.stderr = out
    calls: list[list[Any]] = []
    _record_sdk_calls(calls, spec["logical_id"])
    started = time.perf_counter()
    try:
        _limit_memory(int(spec["memory_mb"]))
        module_name, attr = spec["handler"].rsplit(".", 1)
        try:
            module = importlib.import_module(module_name)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - the init phase's failure is reported as Lambda does
            with lock:
                send_frame(sock, b"E", error_json(error_payload(exc, "Runtime.ImportModuleError")))
            return
        handler = getattr(module, attr, None)
        if handler is None:
            with lock:
                send_frame(sock, b"E", _json({"errorType": "Runtime.HandlerNotFound",
                                              "errorMessage": f"Handler '{attr}' missing on module '{module_name}'",
                                              "stackTrace": []}))
            return
    except MemoryError:
        out.flush()
        with lock:
            send_frame(sock, b"E", _json(_out_of_memory("init")))
        return
    init_ms = (time.perf_counter() - started) * 1000
    out.flush()
    with lock:
        send_frame(sock, b"N", _json({"init_ms": init_ms, "pid": os.getpid()}))
    while True:
        try:
            kind, body = recv_frame(sock)
        except (EOFError, OSError):
            return
        if kind != b"I":
            return
        header, payload = split_header(body)
        calls.clear()
        status, answer = _invoke(handler, header, payload)
        out.flush()
        result = {"status": status, "max_memory_mb": max_memory_used_mb(), "calls": calls}
        with lock:
            send_frame(sock, b"R", _json(result) + b"\n" + answer)
        if status == "oom":
            return  # the environment ends with its invocation, as Lambda's does


# botocore's public events the environment listens to (tests/cost/test_meter.py holds them).
SDK_CALL_EVENTS = ("before-parameter-build", "after-call", "after-call-error")


def _record_sdk_calls(calls: list[list[Any]], function: str) -> None:
    """Every AWS call the function makes, with its billable units and the IAM actions it needs
    (workflows/local/call_log.py), reported with the invocation's result (what X-Ray's
    subsegments would show): botocore's public events, registered with the handlers every session
    gives the clients it makes."""
    from botocore import handlers

    def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["fleet_call"] = (model.service_model.service_name, model.name, params)

    def after(parsed: dict[str, Any], context: dict[str, Any], http_response: Any = None, **_: Any) -> None:
        call = context.pop("fleet_call", None)
        if call is not None:
            answered = http_response is not None and http_response.status_code < 300
            calls.append([call[0], call[1], _units(call[0], call[1], call[2], parsed if answered else None),
                          _iam(function, *call)])

    def after_error(context: dict[str, Any], **_: Any) -> None:
        call = context.pop("fleet_call", None)
        if call is not None:
            calls.append([call[0], call[1], _units(call[0], call[1], call[2], None), _iam(function, *call)])

    handlers.BUILTIN_HANDLERS.extend(zip(SDK_CALL_EVENTS, (before, after, after_error), strict=True))


def _units(service: str, operation: str, params: Any, response: Any) -> dict[str, float]:
    try:
        from dataclasses import asdict

        from workflows.cost.model import units_of_call

        return asdict(units_of_call(service, operation, params, response if isinstance(response, dict) else None))
    except Exception:  # noqa: BLE001 - telemetry never fails an invocation
        return {}


def _iam(function: str, service: str, operation: str, params: Any) -> list[dict[str, str]]:
    try:
        from workflows.local.call_log import iam_calls

        return [dict(c.__dict__) for c in iam_calls(function, service, operation, params)]
    except Exception:  # noqa: BLE001 - telemetry never fails an invocation
        return []


def _out_of_memory(request_id: str) -> dict[str, Any]:
    return {"errorType": "Runtime.OutOfMemory",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"}


def _invoke(handler: Any, header: dict[str, Any], payload: bytes) -> tuple[str, bytes]:
    """("ok" | "error" | "oom", the payload's bytes)."""
    context = Context(header)
    try:
        try:
            event = json.loads(payload or b"{}")
            return "ok", _json(handler(event, context))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - every handler failure becomes Lambda's error payload
            return "error", error_json(error_payload(exc, request_id=header["request_id"]))
    except MemoryError:
        return "oom", _json(_out_of_memory(header["request_id"]))


if __name__ == "__main__":
    zygote(socket.socket(fileno=int(sys.argv[1])))
