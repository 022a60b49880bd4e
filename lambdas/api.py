"""FleetApi: the REST API behind API Gateway (Lambda proxy integration). Starts and resumes the
workflows; one Powertools Router per resource, each route a few lines over fleet_domain. The
resolver and the mapping of every error to its status live in fleet_api/app.py.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from fleet_api import cars, dlq, executions, idempotency, maintenance, rides, service
from fleet_api.app import app
from fleet_domain.platform.observability import lambda_handler

for resource in (cars, rides, maintenance, executions, dlq, service):
    app.include_router(resource.router)


@lambda_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
