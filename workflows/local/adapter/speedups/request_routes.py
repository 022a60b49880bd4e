"""moto finds the handler of each in-process request by matching its URL against every service's
URL patterns in turn, then every URL of the service's backend, compiling each (about 5% of the
engine's CPU under load). The handler a URL led to is kept, per URL without its query string
(a few hundred at most; past that, URLs are matched as moto does): the next request to it goes
straight to the handler, through the same request normalising and recorder as moto's path."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.core import botocore_stubber
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.exceptions import HTTPException
from moto.core.utils import get_equivalent_url_in_aws_domain

from workflows.local.adapter.seam import Seam

ROUTES_KEPT = 512
_routes: dict[str, Callable[..., Any]] = {}  # clean URL -> the backend method moto's matching chose
_lock = threading.Lock()


def forget_routes() -> None:
    """A new local cloud matches afresh (its mock may allow other services)."""
    with _lock:
        _routes.clear()


def _clean_url(url: str) -> str:
    parsed, _ = get_equivalent_url_in_aws_domain(url)
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path}"


def _routed(process_request: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(process_request)
    def run(stubber: Any, request: Any) -> Any:
        clean = _clean_url(request.url)
        handler = _routes.get(clean)
        if handler is None:
            _learn(clean)
            return process_request(stubber, request)
        from moto.moto_api import recorder

        normalized = botocore_stubber.normalize_request(request)
        try:
            recorder._record_request(normalized)
            return handler(normalized, normalized.raw_url, normalized.headers)
        except HTTPException as exc:
            return exc.code, exc.get_headers(), exc.get_body()

    return run


def _learn(clean: str) -> None:
    """Keep the handler moto's own matching picks for this URL (none for a passthrough URL)."""
    import re

    import moto.backend_index as backend_index
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict
    from moto.core.config import passthrough_service, passthrough_url, service_whitelisted

    if len(_routes) >= ROUTES_KEPT or passthrough_url(clean):
        return
    for service, pattern in backend_index.backend_url_patterns:
        if not pattern.match(clean):
            continue
        if passthrough_service(service) or not service_whitelisted(service):
            return
        backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
        if isinstance(backend_dict, BackendDict):
            account = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = account["us-east-1"] if "us-east-1" in account else account["aws"]
        else:
            backend = backend_dict["global"]
        for url, method in backend.urls.items():
            if re.compile(url).match(clean):
                with _lock:
                    _routes[clean] = method
                return
        return


SEAM = Seam(__name__, "the handler of a request URL kept, not matched again per request")
SEAM.wrap(BotocoreStubber, "process_request", _routed)
