"""A DynamoDB Query reads only the partition it names, as DynamoDB does: moto sorted every item
of the table and then kept those of the partition, for a Query on the table and on an index alike,
so each answer cost the whole table (a status-index Query for the few AVAILABLE cars of a large
fleet read every car, under the lock every other request waits for).

Each table keeps, for each index with one partition-key attribute, which items are in which
partition; it is built at the table's first indexed Query and kept up to date from the keys each
request wrote (design.dynamodb_writes), so a Query's cost is the items of its partition. moto's
own Query then runs over those items only: its sorting, paging, key conditions, filters and
projections are unchanged."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from workflows.local.adapter.design import dynamodb_writes
from workflows.local.adapter.design.compact_items import Native, item_at, native
from workflows.local.adapter.seam import Seam, speedups_enabled

PrimaryKey = tuple[Native, Native | None]  # as design.compact_items holds keys: plain values


class Partitions:
    """One table's index partitions: index name -> partition key value -> primary keys."""

    def __init__(self, table: Any):
        self.attributes: dict[str, str] = {}
        for index in table.all_indexes():
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            if len(hashes) == 1:
                self.attributes[index.name] = hashes[0]
        self.members: dict[str, dict[Native, set[PrimaryKey]]] = {name: {} for name in self.attributes}
        self.placed: dict[PrimaryKey, dict[str, Native]] = {}
        for item in table.all_items():
            self.place(primary_key(item.hash_key, item.range_key), item)

    def place(self, key: PrimaryKey, item: Item | None) -> None:
        was = self.placed.pop(key, {})
        now: dict[str, Native] = {}
        if item is not None:
            for name, attribute in self.attributes.items():
                value = item.attrs.get(attribute)
                if value is not None and value.type in _KEY_TYPES:  # a plain value: an update may change the item's own in place
                    now[name] = native(value)
        for name, value in was.items():
            new = now.get(name)
            if new is None or new != value:
                partition = self.members[name].get(value)
                if partition is not None:
                    partition.discard(key)
                    if not partition:
                        del self.members[name][value]
        for name, value in now.items():
            self.members[name].setdefault(value, set()).add(key)
        if now:
            self.placed[key] = now


_KEY_TYPES = {"S", "N", "B"}  # what an index key can be


def primary_key(hash_key: DynamoType, range_key: DynamoType | None) -> PrimaryKey:
    return native(hash_key), None if range_key is None else native(range_key)


def _partitions(table: Any) -> Partitions:
    partitions = table.__dict__.get("_fleet_partitions")
    if partitions is None:
        partitions = table._fleet_partitions = Partitions(table)
    return partitions  # type: ignore[no-any-return]


def _kept_up_to_date(written: list[dynamodb_writes.Written]) -> None:
    for table, hash_key, range_key in written:
        partitions = table.__dict__.get("_fleet_partitions")
        if partitions is not None:
            partitions.place(primary_key(hash_key, range_key), dynamodb_writes.current(table, hash_key, range_key))


def _one_partition(query: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(query)
    def run(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # query(hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
        #       projection_expressions, index_name, ...): moto's backend passes index_name by position.
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        candidates = _candidates(table, hash_key, index_name, kwargs.get("hash_key_conditions"))
        if candidates is None:
            return query(table, hash_key, *args, **kwargs)
        # moto's Query reads table.all_items(): for this call, the partition's items only. Requests
        # on one table are isolated from each other (fixes.dynamodb_request_isolation).
        table.all_items = lambda: candidates
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    return run


def _candidates(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Item] | None:
    """The items of the partition the Query names (None: a Query this cannot narrow)."""
    if not speedups_enabled() or "all_items" in table.__dict__:
        return None
    if index_name is None:
        if hash_key is None:
            return None
        if not table.range_key_attr:
            item = item_at(table, native(hash_key), None)
            return [] if item is None else [item]
        held = table.items.get(hash_key)
        return [] if held is None else sorted(held.values(), key=_primary_key)
    partitions = _partitions(table)
    attribute = partitions.attributes.get(index_name)
    wanted = [value for name, value in (conditions or []) if name == attribute]
    if attribute is None or len(wanted) != 1 or wanted[0].type not in _KEY_TYPES:
        return None
    items = []
    for key in partitions.members[index_name].get(native(wanted[0]), ()):
        item = item_at(table, *key)
        if item is not None:
            items.append(item)
    return sorted(items, key=_primary_key)


def _primary_key(item: Item) -> Any:
    """The order of moto's Table.all_items()."""
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


SEAM = Seam(__name__, "a Query reads only its partition, of the table or of an index")
SEAM.wrap(Table, "query", _one_partition)
dynamodb_writes.listen(_kept_up_to_date)
