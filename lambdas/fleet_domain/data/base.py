"""The base of the data-access layers (rides.py, jobs.py, fleet_cars.py): typed values,
transactions and the reason a transaction was cancelled.

The layers take an optional boto3 client and table names, so the same code serves the Lambdas
(environment, shared client) and `fleet_domain.control.resume` called from the CLI or the API
(their own clients, names from the catalog).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fleet_domain.models.base import plain_numbers
from fleet_domain.models.errors import TransactionConflict, UnstorableItemError
from fleet_domain.platform import clients

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dynamodb() -> Any:
    """The process's DynamoDB client (fleet_domain.platform.clients)."""
    return clients.client("dynamodb")


def utf8_checked(v: Any) -> Any:
    """`v`, once every string in it is known to be text UTF-8 can carry (else UnicodeEncodeError):
    a lone surrogate would fail inside the request, or be stored where nothing can read it back."""
    if isinstance(v, str):
        v.encode("utf-8")
    elif isinstance(v, dict):
        for k, x in v.items():
            utf8_checked(k), utf8_checked(x)
    elif isinstance(v, (list, tuple, set)):
        for x in v:
            utf8_checked(x)
    return v


def value(v: Any) -> dict[str, Any]:
    """One DynamoDB attribute value (floats go through Decimal, as DynamoDB wants).
    UnstorableItemError for what DynamoDB cannot hold (NaN, a number out of its range)."""
    try:
        serialized: dict[str, Any] = _serializer.serialize(_decimals(utf8_checked(v)))
        return serialized
    except (TypeError, ArithmeticError, UnicodeError) as exc:  # decimal's Overflow, Inexact, ... are ArithmeticErrors
        raise UnstorableItemError(f"DynamoDB cannot store {str(v)[:80]!r}: {exc}") from None


def values(**kwargs: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(ride=...) -> {":ride": {...}}."""
    return {f":{k}": value(v) for k, v in kwargs.items()}


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python: numbers as int when whole, float otherwise."""
    return {k: plain_numbers(_deserializer.deserialize(v)) for k, v in item.items()}


def _decimals(v: Any) -> Any:
    if isinstance(v, float):
        return Decimal(str(v))
    if isinstance(v, dict):
        return {k: _decimals(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_decimals(x) for x in v]
    return v


def refused(exc: ClientError) -> Exception:
    """DynamoDB's ValidationException (a key or item over its limits, a number out of its range)
    as UnstorableItemError: the request was refused whole, nothing was written. Any other
    error is returned as it is, for the caller to raise."""
    error = exc.response.get("Error", {})
    if error.get("Code") == "ValidationException":
        return UnstorableItemError(f"DynamoDB refused the request: {error.get('Message', '')[:300]}")
    other: Exception = exc
    return other


class Cancelled(Exception):
    """A transaction was cancelled by a condition; `codes` has one reason code per item ("None"
    for items whose condition held), in the order the items were given."""

    def __init__(self, codes: tuple[str, ...]):
        super().__init__(f"transaction cancelled: {', '.join(codes)}")
        self.codes = codes

    def failed(self, index: int) -> bool:
        return self.codes[index] not in ("None", "")


class Store:
    def __init__(self, client: Any = None, **table_names: str | None):
        self._client = client
        self._table_names = table_names

    @property
    def client(self) -> Any:
        return self._client or dynamodb()

    def table(self, logical: str) -> str:
        """A table's name: given to the constructor, or from the environment (e.g. RIDES_TABLE)."""
        return self._table_names.get(logical) or os.environ[f"{logical.upper()}_TABLE"]

    def read(self, logical: str, key: dict[str, str]) -> dict[str, Any] | None:
        """One item, read consistently, as plain Python; None when there is none."""
        try:
            resp = self.client.get_item(TableName=self.table(logical), Key={k: {"S": v} for k, v in key.items()},
                                        ConsistentRead=True)
        except ClientError as exc:
            raise refused(exc) from None
        return plain(resp["Item"]) if "Item" in resp else None

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("query").paginate(**kwargs):
            for item in page["Items"]:
                yield plain(item)

    def transact(self, *items: dict[str, Any]) -> None:
        """TransactWriteItems; Cancelled (with the reason per item) when a condition fails."""
        try:
            self.client.transact_write_items(TransactItems=list(items))
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = tuple(r.get("Code", "None") for r in reasons)
            if not any(c == "ConditionalCheckFailed" for c in codes):
                # A concurrent transaction or a throttle: no answer about the data, so retry.
                raise TransactionConflict(f"transaction cancelled: {', '.join(codes) or exc}") from None
            raise Cancelled(codes) from None
        except ClientError as exc:
            raise refused(exc) from None

    def update(self, **kwargs: Any) -> bool:
        """UpdateItem; False when its condition fails."""
        try:
            self.client.update_item(**kwargs)
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        except ClientError as exc:
            raise refused(exc) from None
