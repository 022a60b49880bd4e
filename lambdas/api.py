"""FleetApi: the REST API behind API Gateway (Lambda proxy integration). Starts and resumes the
workflows; one Powertools Router per resource, each route a few lines over fleet_domain. The
resolver and the mapping of every error to its status live in fleet_api/app.py.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from fleet_api import idempotency
from fleet_api.app import app, serve_docs
from fleet_domain.platform.observability import lambda_handler

_included = False
_include_lock = threading.Lock()


def include_routers() -> None:
    """Every resource's router (and Swagger UI) on the resolver, once. The route modules define the API's models
    and import the domain's models and data access: most of what the API loads. An on-demand
    environment includes them on its first request, so its init is the resolver's alone; one
    initialised ahead of requests (provisioned concurrency, SnapStart) includes them at init."""
    global _included
    with _include_lock:
        if _included:
            return
        from fleet_api import cars, dlq, executions, maintenance, rides, service

        serve_docs()
        for resource in (cars, rides, maintenance, executions, dlq, service):
            app.include_router(resource.router)
        _included = True


if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") != "on-demand":
    include_routers()


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    include_routers()
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
