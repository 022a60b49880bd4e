"""The process's AWS clients: one per service, created on first use (not at import: tests start
their emulated AWS after importing the handlers) and reused for the life of the process, as a warm
Lambda reuses them across invocations. Clients, not boto3 resources: clients are thread-safe, and
the local cloud runs invocations on threads. One session serves them all, so botocore's data
(endpoints, models) is loaded once per process, not once per client."""

from __future__ import annotations

import sys
import threading
from typing import Any

import boto3

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
                if _session is None:
                    _trace_sdk_calls()
                    _session = boto3.session.Session()
                found = _clients[service] = _session.client(service)
    return found


def _trace_sdk_calls() -> None:
    """X-Ray subsegments for every AWS call of a function: its Tracer patches botocore (a no-op
    where tracing is off: the local cloud, tests). Here, at the first client, so the functions that
    call no AWS service never load botocore for it; only botocore, as patching every library X-Ray
    supports imports each one (~70 ms). Outside a function (the CLI) there is no Tracer to ask."""
    observability = sys.modules.get("fleet_domain.platform.observability")
    if observability is not None:
        observability.tracer.patch(("botocore",))
