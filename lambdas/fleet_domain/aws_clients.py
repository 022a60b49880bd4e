"""The process's AWS clients: one per service, created on first use (not at import: tests start
their emulated AWS after importing the handlers) and reused for the life of the process, as a warm
Lambda reuses them across invocations. Clients, not boto3 resources: clients are thread-safe, and
the local cloud runs invocations on threads. One session serves them all, so botocore's data
(endpoints, models) is loaded once per process, not once per client."""

from __future__ import annotations

import threading
from typing import Any

import boto3

from fleet_domain.observability import tracer

# X-Ray subsegments for every AWS call. Only botocore: patching every library X-Ray supports
# (patch_all) imports each one at cold start (~70 ms).
tracer.patch(("botocore",))

_clients: dict[str, Any] = {}
_session: Any = None
_lock = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        global _session
        with _lock:  # a botocore session does not create clients thread-safely
            found = _clients.get(service)
            if found is None:
                _session = _session or boto3.session.Session()
                found = _clients[service] = _session.client(service)
    return found
