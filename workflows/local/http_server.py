"""The HTTP server under `fleet up`'s endpoints: bounded, with idle timeouts, and drained on stop.

waitress (a maintained, pure-Python WSGI server) reads every connection in one event loop and
hands only complete requests to a fixed pool of threads, so:

- a slow or idle client costs a socket, not a thread: 3,000 of them no longer mean 3,000 threads;
- connections are bounded (`connections`: past it, no new ones are accepted until some close) and
  one idle for `idle_timeout_s` is closed; keep-alive is supported, so SDK clients reuse theirs;
- a request body over `max_body_bytes` is refused with 413 from its Content-Length (or, chunked,
  as soon as it passes the limit), before the application reads anything;
- `drain()` stops accepting (the port is free again at once: SO_REUSEADDR), lets every request
  already received get its answer, then closes what is left.

The object keeps the method names of `socketserver` that callers use (`serve_forever`, `shutdown`,
`server_close`, `server_address`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import waitress
from waitress.channel import HTTPChannel

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
log = logging.getLogger("local.http")


def _connection_budget() -> int:
    """Connections one server may hold: a quarter of the process's open-files limit (two servers,
    the functions' pipes, the state store and moto share the rest), at most 1,000."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return 1000
    except (ImportError, OSError, ValueError):
        soft = 1024
    return max(32, min(1000, soft // 4))


@dataclass(frozen=True)
class ServerLimits:
    threads: int = 16  # requests served at once; more wait in the queue (bounded by `connections`)
    connections: int = field(default_factory=_connection_budget)  # past it, new ones wait in the backlog
    idle_timeout_s: int = 60  # a keep-alive connection with no request for this long is closed
    max_body_bytes: int = 16 * 1024 * 1024


DEFAULT_LIMITS = ServerLimits()


class HttpServer:
    def __init__(self, app: WsgiApp, host: str, port: int, limits: ServerLimits = DEFAULT_LIMITS):
        """Binds now (OSError if the port is taken); serves from serve_forever()."""
        self.limits = limits
        self._server: Any = waitress.create_server(
            app, host=host, port=port, threads=limits.threads, connection_limit=limits.connections,
            channel_timeout=limits.idle_timeout_s, cleanup_interval=max(1, limits.idle_timeout_s // 4),
            max_request_body_size=limits.max_body_bytes, asyncore_use_poll=True, expose_tracebacks=False,
            ident="fleet", clear_untrusted_proxy_headers=False)
        self.socket = self._server.socket
        self.server_address: tuple[str, int] = (str(self._server.effective_host), int(self._server.effective_port))
        self._accepting = True
        self._loop_ended = threading.Event()
        self._loop_ended.set()  # until serve_forever runs

    # --- serving -----------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._loop_ended.clear()
        try:
            self._server.run()  # returns once every channel (the listener included) is closed
        finally:
            self._loop_ended.set()

    def in_flight(self) -> int:
        """Connections with a request received and not yet fully answered (queued, running, or its
        answer still being sent). Read across threads: a snapshot, good enough to wait on."""
        return sum(isinstance(channel, HTTPChannel) and bool(channel.requests or channel.total_outbufs_len)
                   for channel in list(self._server._map.values()))

    def connections(self) -> int:
        return sum(isinstance(c, HTTPChannel) for c in list(self._server._map.values()))

    # --- stopping ----------------------------------------------------------------------------

    def stop_accepting(self) -> None:
        """Close the listening socket (in the loop's thread: asyncore is not thread-safe). The port
        can be bound by another process at once; connections already open are still served."""
        if not self._accepting:
            return
        self._accepting = False
        done = threading.Event()

        def close_listener() -> None:
            self._server.accepting = False
            self._server.del_channel()
            self._server.socket.close()
            done.set()

        if self._loop_ended.is_set():
            close_listener()
        else:
            self._server.trigger.pull_trigger(close_listener)
            done.wait(5)

    def drain(self, timeout_s: float) -> bool:
        """Stop accepting, wait (at most timeout_s) for the requests already received to be
        answered; True when none was left waiting."""
        self.stop_accepting()
        deadline = time.monotonic() + timeout_s
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.in_flight() == 0

    def shutdown(self) -> None:
        """Close every connection and the worker threads; serve_forever returns."""
        self.stop_accepting()

        def close_all() -> None:
            for channel in list(self._server._map.values()):
                if isinstance(channel, HTTPChannel):
                    channel.handle_close()  # its buffers too
                elif channel is not self._server.trigger:
                    channel.close()
            self._server.trigger.close()

        if not self._loop_ended.is_set():
            self._server.trigger.pull_trigger(close_all)
            self._loop_ended.wait(10)
        else:
            close_all()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    def server_close(self) -> None:
        """socketserver's name for releasing the socket: done by shutdown(); kept for callers."""
        if self._accepting:
            self.stop_accepting()
