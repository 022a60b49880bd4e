"""The engine's integrations get one boto3 client per service and region, kept, instead of a new
client per task (the largest per-execution cost measured with stock moto). Unsigned: moto checks
no signature in process, and SigV4 was a tenth of the CPU of each call. Lambda's in-process
client is made as before (it is a thin object)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from workflows.local.adapter.design import service_clients
from workflows.local.adapter.seam import Seam

_CONFIG = service_clients.CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def forget_clients() -> None:
    """A new local cloud starts with new clients (moto's backends were reset)."""
    with _lock:
        _clients.clear()


def _cached(client_for: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(client_for)
    def run(region: str, service: str, state_credentials: Any = None) -> Any:
        if service == "lambda":
            return client_for(region, service, state_credentials)
        key = (service, region)
        client = _clients.get(key)
        if client is None:
            with _lock:
                client = _clients.get(key)
                if client is None:
                    client = _clients[key] = boto3.client(service, region_name=region, aws_access_key_id="ak",
                                                          aws_secret_access_key="sk", config=_CONFIG)
        return client

    return run


SEAM = Seam(__name__, "one kept, unsigned client per service and region")
for _module in service_clients.client_users():
    SEAM.wrap(_module, "boto_client_for", _cached)
