"""`fleet up`: the local cloud as a long-running stack (AWS endpoint, REST API, console)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workflows.cli.errors import UsageError
from workflows.cli.inputs import port, read_json_file
from workflows.definitions import catalog


def register(sub: Any) -> None:
    up = sub.add_parser("up", help="run the local cloud with an AWS-compatible endpoint")
    up.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    up.add_argument("--aws-port", type=port, default=4566, help="AWS-compatible endpoint port (default 4566)")
    up.add_argument("--api-port", type=port, default=8080, help="REST API port, served as API Gateway would (default 8080)")
    up.add_argument("--faults", metavar="FILE", help="inject faults from a JSON file (off unless given)")
    up.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                    help="another Host name to answer to (default: IP addresses, localhost, host.docker.internal)")
    up.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", type=_origin,
                    help="a browser origin allowed to call both servers (default: only the console's own)")
    state = up.add_mutually_exclusive_group()
    state.add_argument("--state-dir", metavar="DIR", default=None,
                       help=f"keep tables, queues and executions here across restarts (default: {_default_state_dir()})")
    state.add_argument("--ephemeral", action="store_true", help="keep no state: everything is gone at the stop")
    up.set_defaults(handler=cmd_up)


def _default_state_dir() -> str:
    return str(catalog.ROOT / ".fleet-state")


def _origin(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"not an origin (scheme://host[:port]): {text!r}")
    return text.rstrip("/")


def faults_from(path: str | None) -> Any:
    """`--faults FILE` as a fault hook (None without one); a bad file is a usage error."""
    if not path:
        return None
    from workflows.local.faults import Faults

    try:
        return Faults.from_dict(read_json_file(path, "--faults"))
    except ValueError as exc:  # not a faults file
        raise UsageError(f"faults file {path}: {exc}") from None


def steady_malloc(arenas: int = 2, mmap_threshold: int = 128 << 10) -> bool:
    """Set glibc's malloc for a long run (False: not glibc, nothing done). Each measured at 5
    requests/s, paired in one run:
    - at most two arenas: glibc gives threads up to eight per core, `fleet up` starts threads all
      the time (one per execution, one per task state), and each arena kept its own high-water
      mark (3.3 MB/min of RSS growth against 6.2);
    - a fixed mmap threshold: by default glibc raises it to the size of each large block freed,
      so after the first history of a few hundred KB every large temporary (a history's JSON, a
      request body) came from the heap, and the holes they left between long-lived blocks were
      never given back (free heap memory grew 0.8 MB/min; at 128 KB it stays flat)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(-8, arenas)) and bool(libc.mallopt(-3, mmap_threshold))  # M_ARENA_MAX, M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def cmd_up(args: argparse.Namespace) -> int:
    steady_malloc()  # before the servers' threads are started
    from workflows.cli import render
    from workflows.local.admission import Admission, origins_of
    from workflows.local.api_gateway import SERVER_LIMITS, ApiGateway
    from workflows.local.cloud import LocalCloud, resolve
    from workflows.local.lambda_endpoint import LambdaEndpoint
    from workflows.local.server import Servers, bind, bind_aws_endpoint, url

    faults = faults_from(args.faults)
    state_dir = None if args.ephemeral else (args.state_dir or _default_state_dir())
    cloud = LocalCloud(virtual_time=False, fault_hook=faults, state_dir=state_dir)  # started once the ports are ours
    gateway = ApiGateway(cloud.runtime)
    try:
        # The console's pages may call the AWS endpoint; other origins only when allowed.
        aws = bind_aws_endpoint(args.host, args.aws_port, Admission.for_server(
            args.host, args.allow_host, [*origins_of(args.host, args.api_port), *args.cors_origin]),
            lambda_api=LambdaEndpoint(cloud.runtime))
    except BIND_ERRORS as exc:
        raise UsageError(cannot_listen(args.host, args.aws_port, exc)) from None
    try:
        api = bind(args.host, args.api_port, gateway, Admission.for_server(args.host, args.allow_host, args.cors_origin),
                   limits=SERVER_LIMITS)
    except BIND_ERRORS as exc:
        aws.server_close()
        raise UsageError(cannot_listen(args.host, args.api_port, exc)) from None
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("local.api").setLevel(logging.INFO)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth is N": normal under load

    from workflows.local.state_store import StateStoreError

    stop = stop_on_signals()
    servers = Servers()
    try:
        cloud.start()
    except StateStoreError as exc:
        aws.server_close()
        api.server_close()
        raise UsageError(str(exc)) from None
    with stopping(cloud):
        from workflows.console.app import console_app

        gateway.console = console_app(cloud.client("stepfunctions"), clients=cloud.client)
        servers.serve(aws, "aws-endpoint")
        servers.serve(api, "api")
        endpoint = url(aws)
        render.table("deployed", ["kind", "name"], [
            *[("state machine", resolve(catalog.Ref("state_machine", s.logical_id, "arn"))) for s in catalog.STATE_MACHINES],
            *[("function", f.function_name) for f in catalog.FUNCTIONS],
            *[("table", t.table_name) for t in catalog.TABLES],
            *[("queue", resolve(catalog.Ref("queue", q.logical_id, "url"))) for q in catalog.QUEUES],
            *[("event bus", b.bus_name) for b in catalog.BUSES],
        ])
        render.console.print(f"AWS endpoint  {endpoint}   (aws --endpoint-url {endpoint} stepfunctions list-state-machines)")
        render.console.print(f"REST API      {url(api)}   (GET {url(api)}/docs, POST {url(api)}/cars)")
        render.console.print(f"console       {url(api)}/console   (executions and their graphs)")
        if faults:
            render.console.print(f"faults        {args.faults}")
        render.console.print(state_line(state_dir, cloud.restored), markup=False)
        serve_until(stop, servers)
    exit_now(0)
    return 0


@contextmanager
def stopping(cloud: Any) -> Iterator[None]:
    try:
        yield
    finally:
        cloud.stop()


def state_line(state_dir: str | None, restored: Any) -> str:
    if state_dir is None:
        return "state         in memory only (--ephemeral): gone at the stop"
    line = (f"state         {state_dir}   (restored {restored.items} items, {restored.messages} messages, "
            f"{restored.executions} executions)")
    if restored.aborted:
        line += f"; {len(restored.aborted)} execution(s) running at the last stop ended ABORTED, redrivable"
    return line


def exit_now(code: int) -> None:
    """Everything is stopped and written: end the process without the interpreter's teardown,
    which spends seconds collecting moto's backends object by object (a new `fleet up` could bind
    the ports already; this is for whoever waits on the process)."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


# What binding a host and port the user typed can raise: OSError (busy, no such address, name not
# resolved), ValueError / UnicodeError (a NUL or an unencodable name).
BIND_ERRORS = (OSError, ValueError, UnicodeError)


def cannot_listen(host: str, port: int, exc: BaseException) -> str:
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return f"cannot listen on {host}:{port}: {why}"


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM (installed before start-up, so a stop during it is kept)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve_until(stop: threading.Event, servers: Any) -> None:
    """Say the servers are ready, wait for the stop, shut them down."""
    from workflows.cli import render

    render.console.print("ready; Ctrl-C to stop", markup=False)
    sys.stdout.flush()
    stop.wait()
    render.console.print("stopping: new connections refused, answering the requests in flight", markup=False)
    sys.stdout.flush()
    if not servers.drain():
        render.console.print("some requests were still running at the drain's deadline: their connections close", markup=False)
    servers.shutdown()
