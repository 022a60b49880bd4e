"""Shared plumbing of the lifecycle repositories (ride_repository, maintenance_repository):
typed values, transactions and the reason a transaction was cancelled.

The repositories take an optional boto3 client and table names, so the same code serves the
Lambdas (environment, shared client) and `fleet_domain.resume` called from the CLI or the API
(their own clients, names from the catalog).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fleet_domain import repositories
from fleet_domain.errors import UnstorableItemError
from fleet_domain.lifecycle_errors import TransactionConflict

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def value(v: Any) -> dict[str, Any]:
    """One DynamoDB attribute value (floats go through Decimal, as DynamoDB wants).
    UnstorableItemError for what DynamoDB cannot hold (NaN, a number out of its range)."""
    try:
        return _serializer.serialize(_decimals(repositories.utf8_checked(v)))
    except (TypeError, ArithmeticError, UnicodeError) as exc:  # decimal's Overflow, Inexact, ... are ArithmeticErrors
        raise UnstorableItemError(f"DynamoDB cannot store {str(v)[:80]!r}: {exc}") from None


def values(**kwargs: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(ride=...) -> {":ride": {...}}."""
    return {f":{k}": value(v) for k, v in kwargs.items()}


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python: numbers as int when whole, float otherwise."""
    return {k: _numbers(_deserializer.deserialize(v)) for k, v in item.items()}


def _numbers(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dict):
        return {k: _numbers(x) for k, x in v.items()}
    if isinstance(v, (list, set)):
        return [_numbers(x) for x in v]
    return v


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
    return exc


class Cancelled(Exception):
    """A transaction was cancelled by a condition; `codes` has one reason code per item ("None"
    for items whose condition held), in the order the items were given."""

    def __init__(self, codes: tuple[str, ...]):
        super().__init__(f"transaction cancelled: {', '.join(codes)}")
        self.codes = codes

    def failed(self, index: int) -> bool:
        return self.codes[index] not in ("None", "")


@dataclass(frozen=True)
class CarChange:
    """One status change a repository made to a car (what gets published as CarStatusChanged)."""

    car_id: str
    previous_status: str
    status: str
    version: int


class Store:
    def __init__(self, client: Any = None, **table_names: str | None):
        self._client = client
        self._table_names = table_names

    @property
    def client(self) -> Any:
        return self._client or repositories.dynamodb()

    def table(self, logical: str) -> str:
        """A table's name: given to the constructor, or from the environment (e.g. RIDES_TABLE)."""
        return self._table_names.get(logical) or os.environ[f"{logical.upper()}_TABLE"]

    def get(self, logical: str, key: dict[str, str]) -> dict[str, Any] | None:
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
