"""The base of every table's access layer, and the one serialiser between Python values and
DynamoDB's typed attribute values.

A layer takes an optional boto3 client and table names, so the same code serves the functions (the
process's client, names from the function's settings) and the CLI, the API and the demo (their own
clients, names from the catalog).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from fleet_domain.models.base import plain_numbers
from fleet_domain.models.errors import TransactionConflict, UnstorableItemError
from fleet_domain.platform import clients
from fleet_domain.platform.settings import settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dynamodb() -> Any:
    """The process's DynamoDB client (fleet_domain.platform.clients)."""
    return clients.client("dynamodb")


# --- the serialiser --------------------------------------------------------------------------


def attribute(v: Any) -> dict[str, Any]:
    """One DynamoDB attribute value (floats go through Decimal, as DynamoDB wants; None inside a
    map is left out). UnstorableItemError for what DynamoDB cannot hold (NaN, a number out of its
    range, a lone surrogate)."""
    try:
        serialized: dict[str, Any] = _serializer.serialize(_decimals(_utf8_checked(v)))
        return serialized
    except (TypeError, ArithmeticError, UnicodeError) as exc:  # decimal's Overflow, Inexact, ... are ArithmeticErrors
        raise UnstorableItemError(f"DynamoDB cannot store {str(v)[:80]!r}: {exc}") from None


def values(**kwargs: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(ride=...) -> {":ride": {...}}."""
    return {f":{k}": attribute(v) for k, v in kwargs.items()}


def item(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An item from plain fields. Fields that are None are left out: DynamoDB stores absence, not NULL."""
    return {k: attribute(v) for k, v in fields.items() if v is not None}


def plain(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python: numbers as int when whole, float otherwise."""
    return {k: plain_numbers(_deserializer.deserialize(v)) for k, v in stored.items()}


def _utf8_checked(v: Any) -> Any:
    """`v`, once every string in it is known to be text UTF-8 can carry (else UnicodeEncodeError):
    a lone surrogate would fail inside the request, or be stored where nothing can read it back."""
    if isinstance(v, str):
        v.encode("utf-8")
    elif isinstance(v, dict):
        for k, x in v.items():
            _utf8_checked(k), _utf8_checked(x)
    elif isinstance(v, (list, tuple, set)):
        for x in v:
            _utf8_checked(x)
    return v


def _decimals(v: Any) -> Any:
    if isinstance(v, float):
        return Decimal(str(v))
    if isinstance(v, dict):
        return {k: _decimals(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_decimals(x) for x in v]
    return v


# --- errors ----------------------------------------------------------------------------------


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


# --- the base --------------------------------------------------------------------------------


class Repository:
    """What every table's access layer stands on: the client, the table names, and the DynamoDB
    calls with their errors mapped to the domain's (a refused request is UnstorableItemError, a
    cancelled transaction says which item's condition failed)."""

    def __init__(self, client: Any = None, **table_names: str | None):
        self._client = client
        self._table_names = table_names

    @property
    def client(self) -> Any:
        return self._client or dynamodb()

    def table(self, logical: str) -> str:
        """A table's name: given to the constructor, or from the function's settings (RIDES_TABLE, ...)."""
        return self._table_names.get(logical) or settings().table(logical)

    def read(self, logical: str, key: Mapping[str, str]) -> dict[str, Any] | None:
        """One item, read consistently, as plain Python; None when there is none."""
        try:
            resp = self.client.get_item(TableName=self.table(logical), Key={k: {"S": v} for k, v in key.items()},
                                        ConsistentRead=True)
        except ClientError as exc:
            raise refused(exc) from None
        return plain(resp["Item"]) if "Item" in resp else None

    def query(self, logical: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query answers, page after page, as plain Python."""
        for page in self.client.get_paginator("query").paginate(TableName=self.table(logical), **kwargs):
            for found in page["Items"]:
                yield plain(found)

    def scan(self, logical: str) -> Iterator[dict[str, Any]]:
        """Every item of the table (for operators' listings and tests, never on a workflow's path)."""
        for page in self.client.get_paginator("scan").paginate(TableName=self.table(logical)):
            for found in page["Items"]:
                yield plain(found)

    def put(self, logical: str, fields: Mapping[str, Any], **condition: Any) -> bool:
        """PutItem of the fields; False when its condition (ConditionExpression, ...) fails."""
        try:
            self.client.put_item(TableName=self.table(logical), Item=item(fields), **condition)
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
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
