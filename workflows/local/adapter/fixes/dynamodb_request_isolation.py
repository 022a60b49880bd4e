"""DynamoDB requests on one table are answered one at a time, from parsing to the serialised
answer. moto is not thread-safe: two conditional writes could both pass (two rides reserving one
car), and an answer built from an item another request is updating in place failed with
`dictionary keys changed during iteration`. AWS makes each conditional write atomic.

Isolation is per table, as AWS's is per item: a request holds the lock of each table it names
(TableName; the tables of a BatchGetItem, BatchWriteItem, TransactGetItems or TransactWriteItems,
taken in name order so two never wait for each other), so a slow Query on one table does not
hold up requests on another. Requests that name no table (ListTables) or change the set of tables
(CreateTable, DeleteTable, UpdateTable) hold every table: they wait for the requests in flight
and the others wait for them."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import responses as dynamodb_responses

from workflows.local.adapter.seam import Seam

_CHANGES_TABLES = {"CreateTable", "DeleteTable", "UpdateTable", "RestoreTableFromBackup", "RestoreTableToPointInTime",
                   "ImportTable"}


class TableLocks:
    """One lock per table name, under a readers-writer lock for the set of tables."""

    def __init__(self) -> None:
        self._guard = threading.Condition()
        self._sharing = 0  # requests holding table locks
        self._exclusive: threading.Thread | None = None  # the request holding every table
        self._depth = 0
        self._tables: dict[str, threading.RLock] = {}

    def _table(self, name: str) -> threading.RLock:
        lock = self._tables.get(name)
        if lock is None:
            with self._guard:
                lock = self._tables.setdefault(name, threading.RLock())
        return lock

    @contextmanager
    def tables(self, names: list[str]) -> Iterator[None]:
        me = threading.current_thread()
        with self._guard:
            if self._exclusive is me:  # nested in a request that holds every table
                self._depth += 1
                shared = False
            else:
                self._guard.wait_for(lambda: self._exclusive is None)
                self._sharing += 1
                shared = True
        locks = [self._table(n) for n in sorted(set(names))]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()
            with self._guard:
                if shared:
                    self._sharing -= 1
                    self._guard.notify_all()
                else:
                    self._depth -= 1

    @contextmanager
    def every_table(self) -> Iterator[None]:
        me = threading.current_thread()
        with self._guard:
            if self._exclusive is me:
                self._depth += 1
            else:
                self._guard.wait_for(lambda: self._exclusive is None)
                self._exclusive = me  # new table requests wait from now on
                self._guard.wait_for(lambda: self._sharing == 0)
                self._depth = 1
        try:
            yield
        finally:
            with self._guard:
                self._depth -= 1
                if self._depth == 0:
                    self._exclusive = None
                    self._guard.notify_all()


LOCKS = TableLocks()


def tables_of(operation: str, body: Any) -> list[str] | None:
    """The tables a request names (None: it must hold every table)."""
    if operation in _CHANGES_TABLES or not isinstance(body, dict):
        return None
    names: list[str] = []
    if isinstance(body.get("TableName"), str):
        names.append(body["TableName"])
    if isinstance(body.get("RequestItems"), dict):
        names += [n for n in body["RequestItems"] if isinstance(n, str)]
    if isinstance(body.get("TransactItems"), list):
        for entry in body["TransactItems"]:
            if isinstance(entry, dict):
                for op in entry.values():
                    if isinstance(op, dict) and isinstance(op.get("TableName"), str):
                        names.append(op["TableName"])
    return [_short(n) for n in names] or None


def _short(name: str) -> str:
    """A table named by its ARN is the same table as by its name."""
    return name.rsplit("table/", 1)[-1] if name.startswith("arn:") else name


def _isolated(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(call_action)
    def run(handler: Any) -> Any:
        try:
            body = json.loads(handler.body) if handler.body else {}
        except (ValueError, TypeError):
            body = None
        operation = (handler.headers.get("X-Amz-Target") or handler.headers.get("x-amz-target") or "").split(".")[-1]
        names = tables_of(operation, body)
        with LOCKS.every_table() if names is None else LOCKS.tables(names):
            return call_action(handler)

    return run


SEAM = Seam(__name__, "DynamoDB requests on one table isolated from each other: conditional writes atomic",
            corrects="moto 5.2.5's DynamoDB backend is not thread-safe (conditional writes race, reads see half-written items)")
SEAM.wrap(dynamodb_responses.DynamoHandler, "call_action", _isolated)
