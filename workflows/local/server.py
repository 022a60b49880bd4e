"""`fleet up`: the local cloud as a long-running stack behind an AWS-compatible endpoint.

moto's own WSGI application serves the AWS APIs (Step Functions, DynamoDB, SQS, EventBridge, ...)
from the same in-process backends the state machines use, so the AWS CLI, boto3 and `fleet` see
one shared state.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("local.up")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)


def bind(host: str, port: int, app: Any) -> BaseWSGIServer:
    """Bind now (so a busy port fails before anything starts); serve later. Raises OSError."""
    # werkzeug reports a busy port by printing advice and exiting; probe first to say it in one line.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, port))
    return make_server(host, port, app, threaded=True, request_handler=_QuietHandler)


def bind_aws_endpoint(host: str, port: int) -> BaseWSGIServer:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return bind(host, port, DomainDispatcherApplication(create_backend_app))


@dataclass
class Servers:
    """The HTTP servers of one `fleet up`, each on its own thread."""

    servers: list[BaseWSGIServer] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def serve(self, server: BaseWSGIServer, name: str) -> None:
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        self.servers.append(server)
        self.threads.append(thread)

    def shutdown(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)


def url(server: BaseWSGIServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"
