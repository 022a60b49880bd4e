"""Injected table faults (workflows/local/faults.py): a DynamoDB request on a table the faults
file names may be refused as DynamoDB refuses one past its capacity
(ProvisionedThroughputExceededException). Decided once per request: a transaction's own calls to
the backend are not asked again."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb import exceptions as dynamodb_exceptions
from moto.dynamodb.models import DynamoDBBackend

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.seam import Seam

TABLE_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan", "transact_write_items")

_in_table_request = threading.local()


class ThroughputExceeded(dynamodb_exceptions.DynamodbException):
    def __init__(self, table_name: str):
        super().__init__(dynamodb_exceptions.ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException",
                         "The level of configured provisioned throughput for the table was exceeded. "
                         f"Consider increasing your provisioning level with the UpdateTable API. (injected for {table_name})")


def _tables_named(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str | None]:
    if name == "transact_write_items":
        entries = kwargs.get("transact_items", args[0] if args else [])
        return [op.get("TableName") for entry in entries for op in entry.values() if isinstance(op, dict)]
    return [kwargs.get("table_name", args[0] if args else None)]


def _with_table_faults(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(operation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(operation)
        def run(backend: Any, *args: Any, **kwargs: Any) -> Any:
            fault = getattr(bound.runtime.fault_hook, "table_fault", None) if bound.started else None
            if fault is None or getattr(_in_table_request, "active", False):
                return operation(backend, *args, **kwargs)
            for table in dict.fromkeys(_tables_named(name, args, kwargs)):
                if table and fault(table):
                    raise ThroughputExceeded(table)
            _in_table_request.active = True
            try:
                return operation(backend, *args, **kwargs)
            finally:
                _in_table_request.active = False

        return run

    return wrap


SEAM = Seam(__name__, "DynamoDB requests on a faulted table refused as past its capacity")
for _name in TABLE_OPERATIONS:
    SEAM.wrap(DynamoDBBackend, _name, _with_table_faults(_name))
