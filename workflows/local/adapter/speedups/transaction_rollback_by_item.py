"""TransactWriteItems keeps a copy of the items it touches for its rollback, not of every table it
names: moto deep-copies each table a transaction names before writing, so each car reservation
copied the whole Cars table and every DynamoDB request waited for it (the main cost of dispatch
under load). The snapshot is taken while the request is isolated (fixes.dynamodb_request_isolation),
so it is the state the transaction started from."""

from __future__ import annotations

import copy
import functools
import types
from collections.abc import Callable
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from workflows.local.adapter.seam import Seam


def _rolled_back_by_item(transact_write_items: Callable[[Any, list[dict[str, Any]]], None]) -> Callable[..., None]:
    @functools.wraps(transact_write_items)
    def run(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        touched = []
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                table = backend.tables[op["TableName"]]
                key = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, StopIteration, TypeError, AttributeError):
                continue  # an entry moto refuses: it writes nothing
            touched.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            transact_write_items(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, before in reversed(touched):
                _restore(table, hash_key, range_key, before)
            raise

    return run


def _restore(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
    elif before is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = before


def _deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
    """moto.dynamodb.models' copy.deepcopy: a Table is not copied (its transaction's rollback is
    the copy of the touched items above); anything else is."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


SEAM = Seam(__name__, "a transaction's rollback copies the items it touches, not their tables")
SEAM.wrap(DynamoDBBackend, "transact_write_items", _rolled_back_by_item)
SEAM.replace(dynamodb_models, "copy", types.SimpleNamespace(deepcopy=_deepcopy_but_tables, copy=copy.copy))
