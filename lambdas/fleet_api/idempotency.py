"""Idempotency-Key support for the API's POST routes, on Powertools' idempotency utility.

With the header, the first answer for (route, key) is stored in the idempotency table and
replayed on every retry; the same key with a different request is refused. Without it, the
natural key (the execution name derived from the request) still prevents a second execution,
except for maintenance, where each request is a new job (a car is serviced any number of times):
its execution name derives from the key, else from the request id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet_api.errors import Conflict, Invalid

# Powertools' persistence layer keeps per-call state on itself (it is configured by each call),
# which is right for an execution environment: it serves one request at a time. Made on first use.
_layer: tuple[Any, Any] | None = None


def _setup() -> tuple[Any, Any]:
    global _layer
    if _layer is None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

        from fleet_domain.data.base import dynamodb
        from fleet_domain.platform.settings import settings

        config = IdempotencyConfig(event_key_jmespath="[scope, key]", payload_validation_jmespath="request",
                                   expires_after_seconds=24 * 3600)
        _layer = config, DynamoDBPersistenceLayer(table_name=settings().required("idempotency_table"),
                                                  boto3_client=dynamodb())
    return _layer


def register_lambda_context(context: Any) -> None:
    # Imported here: FleetApi's init loads this module, and the settings model is the first
    # request's to build (api.include_routers).
    from fleet_domain.platform.settings import settings

    if settings().idempotency_table:
        config, _ = _setup()
        config.register_lambda_context(context)


def once(key: str | None, scope: str, request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `action` once per (scope, key); replay its answer for the same key and request."""
    if key is None:
        return action()
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, persistence = _setup()

    @idempotent_function(data_keyword_argument="command", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def run(command: dict[str, Any]) -> dict[str, Any]:
        return action()

    try:
        answer: dict[str, Any] = run(command={"scope": scope, "key": key, "request": request})
        return answer
    except IdempotencyValidationError:
        raise Invalid("Idempotency-Key was already used with a different request",
                      [{"field": "Idempotency-Key"}]) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly") from None
