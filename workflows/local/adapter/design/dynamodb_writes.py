"""Which DynamoDB items a request wrote, told to whoever keeps something derived from them (the
state store's write-through, the index partitions of speedups.dynamodb_query_by_partition) once
the request is done (a transaction rolled back included) and before its answer is sent, while the
request is still isolated (fixes.dynamodb_request_isolation wraps this seam from outside).

Every write of moto's DynamoDB goes through its backend's put_item, update_item or delete_item
(BatchWriteItem and TransactWriteItems call them); each is noted with its table and key, refused
or not (reading back a key that did not change costs one dictionary lookup)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

from workflows.local.adapter.design.compact_items import item_at, native
from workflows.local.adapter.seam import Seam

# (table, hash key, range key or None) of one written item
Written = tuple[Any, DynamoType, DynamoType | None]
Listener = Callable[[list[Written]], None]

LISTENERS: list[Listener] = []
_noted = threading.local()


def listen(listener: Listener) -> None:
    if listener not in LISTENERS:
        LISTENERS.append(listener)


def current(table: Any, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
    """The item under this key now, to read (None: there is none)."""
    return item_at(table, native(hash_key), None if range_key is None else native(range_key))


def _noting(method: Callable[..., Any], key_argument: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.get(key_argument, args[0] if args else None)
        try:
            return method(backend, table_name, *args, **kwargs)
        finally:
            written = _key_of(backend, table_name, key)
            if written is not None:
                noted = getattr(_noted, "keys", None)
                if noted is None:
                    noted = _noted.keys = []
                noted.append(written)

    return run


def _key_of(backend: Any, table_name: str, key: Any) -> Written | None:
    if not isinstance(key, dict):
        return None
    try:
        table = backend.get_table(table_name)
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    except Exception:  # noqa: BLE001 - no such table, or a key moto refused: nothing was written
        return None
    return table, hash_key, range_key


def _telling(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(call_action)
    def run(handler: Any) -> Any:
        try:
            return call_action(handler)
        finally:
            tell()

    return run


def tell() -> None:
    """Tell the listeners what this thread wrote since the last time (each key once)."""
    noted = getattr(_noted, "keys", None)
    if not noted:
        return
    _noted.keys = []
    unique = list({(id(t), h, r): (t, h, r) for t, h, r in noted}.values())
    for listener in LISTENERS:
        listener(unique)


SEAM = Seam(__name__, "the DynamoDB items each request wrote, told to what keeps something derived from them")
SEAM.wrap(DynamoDBBackend, "put_item", lambda m: _noting(m, "item_attrs"))
SEAM.wrap(DynamoDBBackend, "update_item", lambda m: _noting(m, "key"))
SEAM.wrap(DynamoDBBackend, "delete_item", lambda m: _noting(m, "key"))
SEAM.wrap(dynamodb_responses.DynamoHandler, "call_action", _telling)
