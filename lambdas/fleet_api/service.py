"""The service's own routes: liveness and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from fleet_api.app import openapi_document
from fleet_domain.models.base import DomainModel

router = Router()


class Health(DomainModel):
    status: str


@router.get("/openapi.json", tags=["service"], include_in_schema=False)
def openapi() -> Response[Any]:
    return Response(200, "application/json", openapi_document())


@router.get("/health", tags=["service"], summary="Liveness")
def health() -> Health:
    return Health(status="ok")
