"""Who may talk to the local servers (`fleet up`): this machine's clients and the console's pages.

The servers have no credentials to check (the local cloud accepts any signature), so what keeps a
web page from driving them is the browser's own rules, applied strictly here:

- **Host**: a request must name this machine: an IP address, `localhost` (or a `*.localhost`
  name), `host.docker.internal` (how a container reaches its host), this machine's own name when
  the servers listen beyond loopback, or a name allowed with `--allow-host`. A DNS-rebinding page
  (its own domain pointed at 127.0.0.1) sends its domain as Host and is refused with 403.
- **Origin**: a browser names the page's origin on every cross-site request. A request is served
  when it carries no Origin (the AWS CLI, SDKs, curl, `fleet`), comes from the server's own origin,
  or from an origin on the allow-list (by default the console's own: `fleet up`'s REST API at
  127.0.0.1 and localhost); any other origin is refused with 403, before the request runs, so a
  page cannot even fire a request it would not be allowed to read (a form POST of SQS's query
  protocol, say).
- **CORS**: preflights are answered here, only for allowed origins; the wrapped app's own CORS
  headers (moto's server answers every origin with `*`) are replaced by headers for the allowed
  origin alone.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# (start_response, status, message) -> body: each server answers errors in its own protocol's shape.
ErrorRenderer = Callable[[Callable[..., Any], int, str], Iterable[bytes]]

ALWAYS_ALLOWED_HOSTS = frozenset({"localhost", "host.docker.internal"})
_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
# What an SDK or page reads back from an answer (request ids, error type, S3's ETag and versions).
_EXPOSED = "x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, x-amz-id-2, x-amz-version-id, ETag, Date"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origins_of(host: str, port: int) -> frozenset[str]:
    """The origins a browser gives a page served at host:port (loopback: both of its names)."""
    names = {host} | ({"127.0.0.1", "localhost"} if is_loopback(host) or host in ("0.0.0.0", "::") else set())
    return frozenset(f"http://{f'[{n}]' if ':' in n else n}:{port}" for n in names)


@dataclass(frozen=True)
class Admission:
    """The Host names a server answers to and the origins it serves (see the module's doc)."""

    allowed_hosts: frozenset[str] = ALWAYS_ALLOWED_HOSTS
    allowed_origins: frozenset[str] = frozenset()

    @classmethod
    def for_server(cls, bound_host: str, allow_hosts: Iterable[str] = (), allow_origins: Iterable[str] = ()) -> Admission:
        hosts = set(ALWAYS_ALLOWED_HOSTS) | {h.lower() for h in allow_hosts}
        if not is_loopback(bound_host):
            # Listening beyond loopback: the machine's own names reach it too.
            hosts |= {socket.gethostname().lower(), socket.getfqdn().lower()}
            if not _is_ip(bound_host) and bound_host:
                hosts.add(bound_host.lower())
        return cls(frozenset(hosts), frozenset(o.rstrip("/").lower() for o in allow_origins))

    def host_allowed(self, host_header: str | None) -> bool:
        if not host_header:
            return True  # HTTP/1.0 without Host: no browser sends that
        name = _hostname(host_header)
        if name is None:
            return False
        return _is_ip(name) or name == "localhost" or name.endswith(".localhost") or name in self.allowed_hosts

    def origin_allowed(self, origin: str, host_header: str | None) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        parts = urlsplit(origin)
        return bool(host_header) and parts.scheme in ("http", "https") and parts.netloc == (host_header or "").lower()

    def wrap(self, app: WsgiApp, error: ErrorRenderer) -> WsgiApp:
        """`app` behind this admission: refused requests never reach it."""

        def admitted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            host = environ.get("HTTP_HOST")
            if not self.host_allowed(host):
                return error(start_response, 403, "Host not allowed: this server answers only for this machine")
            origin = environ.get("HTTP_ORIGIN")
            if origin is not None and not self.origin_allowed(origin, host):
                return error(start_response, 403, "Origin not allowed (fleet up --cors-origin adds one)")
            if origin is not None and environ.get("REQUEST_METHOD") == "OPTIONS" \
                    and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
                return _preflight(start_response, origin, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))

            def cors_of_this_origin_only(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-") and k.lower() != "vary"]
                return start_response(status, [*kept, *(_cors_headers(origin) if origin else [])], exc_info)

            return app(environ, cors_of_this_origin_only)

        return admitted


def _preflight(start_response: Callable[..., Any], origin: str, requested_headers: str | None) -> Iterable[bytes]:
    headers = [*_cors_headers(origin), ("Access-Control-Allow-Methods", _METHODS), ("Access-Control-Max-Age", "600"),
               ("Content-Length", "0")]
    if requested_headers:
        headers.append(("Access-Control-Allow-Headers", requested_headers))
    start_response("204 No Content", headers)
    return [b""]


def _cors_headers(origin: str) -> list[tuple[str, str]]:
    return [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", _EXPOSED), ("Vary", "Origin")]


def _hostname(host_header: str) -> str | None:
    """The name in a Host header, without its port; None when it is not a well-formed host."""
    try:
        name = urlsplit(f"//{host_header.strip()}").hostname
    except ValueError:
        return None
    return name.lower() if name else None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
