"""A DynamoDB table keeps the items not used lately as bytes, so a long-running local cloud's
memory grows with the data its tables hold, not with moto's object graph of it. moto holds every
item as an Item of DynamoType objects: about 4 KB of heap for a 14-attribute car whose
DynamoDB JSON is 0.5 KB, and the fleet writes new cars, rides, jobs, history and idempotency
records all the time (the largest part of `fleet up`'s growth under steady load).

Each table's items (moto's `Table.items`) are held by a TableItems: the HOT_ITEMS used last are
moto's Item objects, as before; the others are their attributes marshalled and deflated to bytes,
turned back into an Item when a request reads or writes them (about 15 us for a car; 10 us to put
one back).
Keys are held as plain values (a string for an S key), not as DynamoType objects.

A durable local cloud (design.durable_state) keeps every item in its state store as well: there
a cold item's bytes give way to STORED once the store's row is known to hold the same item, and
the item is read from the store when a request wants it (about 30 us), so the heap keeps only
its key, however many items the tables hold. The check compares the row with the item itself,
after the write that made it is committed (StateStore.committed); an item changed since is hot
again (a new Item), and its bytes are not replaced.

What reads an item to change it (GetItem, PutItem's condition, UpdateItem, a transaction) gets
the held Item, made current again; what reads many to answer (Scan, Query, the length) gets a
transient copy of each cold one, so a Scan does not push the items in use out. An item becomes
bytes only when another is made current past HOT_ITEMS, inside a request on the same table:
DynamoDB requests on one table run one at a time (fixes.dynamodb_request_isolation), so none is
changing it then."""

from __future__ import annotations

import functools
import json
import marshal
import sys
import zlib
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from copy import deepcopy
from decimal import Context, Decimal
from typing import Any, Protocol

from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table

from workflows.local.adapter.seam import Seam

HOT_ITEMS = 256  # per table: the items requests are working on (a few per execution in flight)

# A key value as held here: the string of an S key, the int of a whole N key (28 bytes where a
# Decimal in a tuple took 160: a version or a timestamp sort key), (type, cast value) otherwise.
Native = Hashable


def native(key: DynamoType) -> Native:
    """A key attribute's value as a plain hashable, equal where moto's DynamoType keys are equal
    (a table's key attribute has one type, so an int is never compared with a string)."""
    if key.type == "S":
        return sys.intern(key.value) if len(key.value) <= 64 else key.value
    if key.type == "N":
        number = key.cast_value
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return (key.type, key.cast_value)


def key_type(value: Native) -> DynamoType:
    if isinstance(value, str):
        return DynamoType({"S": value})
    if isinstance(value, int):
        return DynamoType({"N": str(value)})
    kind: str
    cast: Any
    kind, cast = value  # type: ignore[misc]
    return DynamoType({kind: str(cast) if kind == "N" else cast})


def row_key(hash_key_attr: str, range_key_attr: str | None, hash_key: Native, range_key: Native | None) -> str:
    """An item's primary key as the state store keys it: its key attributes as sorted JSON, a
    number as its canonical text (DynamoDB compares numbers by value: 1, 1.0 and 1E0 are one key)."""
    key = {hash_key_attr: _key_json(hash_key)}
    if range_key_attr is not None:
        key[range_key_attr] = _key_json(range_key)
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def _key_json(value: Native) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    kind: str
    cast: Any
    kind, cast = value  # type: ignore[misc]
    if kind == "N":  # not whole: its trailing zeros dropped, none of its (up to 38) digits rounded
        number = Decimal(cast)
        return {"N": str(number.normalize(Context(prec=max(28, len(number.as_tuple().digits)))))}
    return {kind: cast}


def item_json(item: Item) -> str:
    """The item's attributes as the state store keeps them (DynamoDB JSON)."""
    return json.dumps(item.to_json()["Attributes"], separators=(",", ":"))


def _from_json(text: str, hash_key_attr: str, range_key_attr: str | None) -> Item:
    return _item({name: DynamoType(value) for name, value in json.loads(text).items()}, hash_key_attr, range_key_attr)


def _item(values: dict[str, DynamoType], hash_key_attr: str, range_key_attr: str | None) -> Item:
    """An Item of these attributes, built as moto builds one (its size was checked when it was written)."""
    attrs = LimitedSizeDict()
    dict.update(attrs, values)
    item: Item = object.__new__(Item)
    item.hash_key = attrs[hash_key_attr]
    item.range_key = attrs[range_key_attr] if range_key_attr else None
    item.attrs = attrs
    return item


class ItemRows(Protocol):
    """Where a durable local cloud keeps every item: the state store (design.durable_state)."""

    def submitted(self) -> int: ...  # the sequence number of the last write queued

    def committed(self) -> int: ...  # every write up to this sequence number is committed

    def item(self, table: str, key: str) -> str | None: ...  # an item's JSON, by row_key


class _Stored:
    def __repr__(self) -> str:
        return "STORED"

    def __reduce__(self) -> str:
        return "STORED"  # copied or pickled, still the one STORED


STORED: Any = _Stored()  # in place of a cold item whose only copy is the state store's row
_rows: ItemRows | None = None
_SETTLE_PER_USE = 4  # cold items checked against the store per item made current
_SETTLE_TRIES = 3  # checks before a cold item stays bytes (a write that never committed)
_SETTLING_MAX = 4 * HOT_ITEMS  # past it (the store stopped committing), cold items stay bytes


def keep_cold_items_in(rows: ItemRows | None) -> None:
    """From now on, cold items are left to `rows` (None: they stay bytes in the heap)."""
    global _rows
    _rows = rows


def _encoded(value: DynamoType) -> Any:
    if value.type == "M":
        return {"M": {k: _encoded(v) for k, v in value.value.items()}}
    if value.type == "L":
        return {"L": [_encoded(v) for v in value.value]}
    return {value.type: value.value}


# Cold items are deflated against a dictionary of their table's first cold item: a table's items
# share their attribute names, type tags and many values, so a car's 0.4-0.5 KB of marshalled
# attributes keeps about a third of that (about 4 us to pack, 1 us to unpack). A 4 KB window
# (and a small compressor state, memLevel 3) keeps each compression's scratch memory small.
_WBITS = -12  # raw deflate, 4 KB window: the dictionary's reach
_MEM_LEVEL = 3


def encode(item: Item, dictionary: bytes = b"") -> bytes | None:
    """The item's attributes as bytes (None: a value marshal cannot hold; it stays an Item)."""
    try:
        plain = _marshalled(item)
    except ValueError:
        return None
    packer = zlib.compressobj(6, zlib.DEFLATED, _WBITS, _MEM_LEVEL, zdict=dictionary)
    return packer.compress(plain) + packer.flush()


def decode(held: bytes, hash_key_attr: str, range_key_attr: str | None, dictionary: bytes = b"") -> Item:
    """An Item from its bytes."""
    unpacker = zlib.decompressobj(_WBITS, zdict=dictionary)
    values = marshal.loads(unpacker.decompress(held))
    return _item({name: DynamoType(value) for name, value in values.items()}, hash_key_attr, range_key_attr)


_MISSING = object()


def _marshalled(item: Item) -> bytes:
    return marshal.dumps({name: _encoded(value) for name, value in item.attrs.items()})


def _dictionary_of(item: Item) -> bytes:
    try:
        return _marshalled(item)[-(1 << -_WBITS):]
    except ValueError:
        return b""


class _Held:
    """A dict of plain keys read as moto reads its dict of DynamoType keys."""

    __slots__ = ()
    held: dict[Native, Any]

    def __len__(self) -> int:
        return len(self.held)

    def __iter__(self) -> Iterator[DynamoType]:
        return (key_type(key) for key in list(self.held))

    def keys(self) -> Iterator[DynamoType]:
        return iter(self)

    def _pop(self, key: DynamoType, default: tuple[Any, ...]) -> tuple[Native, Any]:
        """(plain key, what it held), or (plain key, _MISSING) with a default; KeyError without one."""
        plain = native(key)
        if plain in self.held:
            return plain, self.held.pop(plain)
        if default:
            return plain, _MISSING
        raise KeyError(key)


class TableItems(_Held):
    """moto's `Table.items`: hash key -> Item, or hash key -> SortedPart (range key -> Item) for a
    table with a sort key. Values are Items, their bytes (cold), or STORED (cold, in the store)."""

    def __init__(self, name: str | None, hash_key_attr: str, range_key_attr: str | None):
        self.name = name  # the table's, as the store keys its rows (None: a copy, none of its items go to the store)
        self.hash_key_attr = hash_key_attr
        self.range_key_attr = range_key_attr
        self.held: dict[Native, Any] = {}  # -> Item | bytes, or -> SortedPart
        self.hot: dict[tuple[Native, Native | None], None] = {}  # current Items, least recently used first
        self.dictionary = b""  # what cold items are deflated against: the first one's marshalled attributes
        self.rows: ItemRows | None = None  # the store STORED items are read from
        self.settling: deque[_Settling] = deque()  # cold items whose row is not yet known current, oldest first

    # --- moto's dict protocol ---------------------------------------------------------

    def __getitem__(self, hash_key: DynamoType) -> Any:
        key = native(hash_key)
        if self.range_key_attr is not None:
            part = self.held.get(key)
            return part if part is not None else SortedPart(self, key)  # held once something is put in it
        return self.current(key, None, self.held[key])

    def __setitem__(self, hash_key: DynamoType, item: Item) -> None:
        key = native(hash_key)
        self.held[key] = item
        self.used(key, None)

    def __contains__(self, hash_key: object) -> bool:
        return isinstance(hash_key, DynamoType) and native(hash_key) in self.held

    def get(self, hash_key: DynamoType, default: Any = None) -> Any:
        key = native(hash_key)
        held = self.held.get(key)
        if held is None:
            return default
        return held if self.range_key_attr is not None else self.current(key, None, held)

    def pop(self, hash_key: DynamoType, *default: Any) -> Any:
        key, held = self._pop(hash_key, default)
        if held is _MISSING:
            return default[0]
        if self.range_key_attr is not None:
            for range_key in held.held:
                self.hot.pop((key, range_key), None)
            return held
        self.hot.pop((key, None), None)
        return self.readable(held, key, None)

    def values(self) -> Iterator[Any]:
        """Items to read (cold ones as transient copies), or a sort-keyed table's parts."""
        if self.range_key_attr is not None:
            return iter(list(self.held.values()))
        return (self.readable(held, key, None) for key, held in list(self.held.items()))

    def items(self) -> Iterator[tuple[DynamoType, Any]]:
        if self.range_key_attr is not None:
            return ((key_type(key), part) for key, part in list(self.held.items()))
        return ((key_type(key), self.readable(held, key, None)) for key, held in list(self.held.items()))

    def __deepcopy__(self, memo: dict[int, Any]) -> TableItems:
        """A copy for a backup or a table restored from one (moto deep-copies a table's items):
        every item whole, nothing left to the store (whose rows are the source table's)."""
        copy = TableItems(None, self.hash_key_attr, self.range_key_attr)
        copy.dictionary = self.dictionary
        for hash_key, held in list(self.held.items()):
            if self.range_key_attr is None:
                copy.held[hash_key] = self._copied(held, hash_key, None, memo)
                continue
            part = copy.held[hash_key] = SortedPart(copy, hash_key)
            for range_key, value in list(held.held.items()):
                part.held[range_key] = self._copied(value, hash_key, range_key, memo)
        return copy

    def _copied(self, held: Any, hash_key: Native, range_key: Native | None, memo: dict[int, Any]) -> Any:
        if isinstance(held, bytes):
            return held
        return deepcopy(self.readable(held, hash_key, range_key), memo)

    # --- what moto's dict did not have -------------------------------------------------

    def count(self) -> int:
        """How many items the table holds."""
        if self.range_key_attr is None:
            return len(self.held)
        return sum(len(part.held) for part in self.held.values())

    def peek(self, hash_key: Native, range_key: Native | None) -> Item | None:
        """The item under these keys, to read: the held Item, or a transient copy of a cold one."""
        held = self.held.get(hash_key)
        if held is not None and range_key is not None:
            held = held.held.get(range_key)
        return None if held is None else self.readable(held, hash_key, range_key)

    def readable(self, held: Any, hash_key: Native, range_key: Native | None) -> Item:
        if isinstance(held, bytes):
            return decode(held, self.hash_key_attr, self.range_key_attr, self.dictionary)
        if held is STORED:
            return self.stored(hash_key, range_key)
        return held  # type: ignore[no-any-return]

    def stored(self, hash_key: Native, range_key: Native | None) -> Item:
        """A STORED item, read from the store."""
        text = None if self.rows is None or self.name is None else self.rows.item(self.name, self.row_key(hash_key, range_key))
        if text is None:  # the store lost a row it was seen to hold: nothing here can stand in for it
            raise LookupError(f"item {self.row_key(hash_key, range_key)} of table {self.name} is missing from the state store")
        return _from_json(text, self.hash_key_attr, self.range_key_attr)

    def row_key(self, hash_key: Native, range_key: Native | None) -> str:
        return row_key(self.hash_key_attr, self.range_key_attr, hash_key, range_key)

    def current(self, hash_key: Native, range_key: Native | None, held: Any) -> Item:
        """The held Item (made one again if it was cold), marked used."""
        if not isinstance(held, Item):
            held = self.readable(held, hash_key, range_key)
            if range_key is None:
                self.held[hash_key] = held
            else:
                self.held[hash_key].held[range_key] = held
        self.used(hash_key, range_key)
        return held  # type: ignore[no-any-return]

    def used(self, hash_key: Native, range_key: Native | None) -> None:
        key = (hash_key, range_key)
        self.hot.pop(key, None)
        self.hot[key] = None
        while len(self.hot) > HOT_ITEMS:
            self.cool(*next(iter(self.hot)))
        if self.settling:
            self.settle()

    def holder(self, hash_key: Native, range_key: Native | None) -> tuple[dict[Native, Any] | None, Native]:
        """The dict that holds the item under these keys (None: none does), and its key there."""
        if range_key is None:
            return self.held, hash_key
        part = self.held.get(hash_key)
        return (None if part is None else part.held), range_key

    def cool(self, hash_key: Native, range_key: Native | None) -> None:
        del self.hot[(hash_key, range_key)]
        holder, key = self.holder(hash_key, range_key)
        item = None if holder is None else holder.get(key)
        if isinstance(item, Item):
            if not self.dictionary:
                self.dictionary = _dictionary_of(item)
            encoded = encode(item, self.dictionary)
            if encoded is not None:
                holder[key] = encoded  # type: ignore[index]
                rows = _rows
                if rows is not None and self.name is not None and len(self.settling) < _SETTLING_MAX:
                    self.rows = rows
                    self.settling.append(_Settling(rows.submitted(), hash_key, range_key, encoded))

    def settle(self) -> None:
        """Cold items whose writes are committed by now give way to STORED where the store's row
        is the item (an item cooled by the request that wrote it is checked again later: its
        write was queued after it was cooled)."""
        rows = self.rows
        if rows is None or self.name is None:
            return
        committed = rows.committed()
        for _ in range(_SETTLE_PER_USE):
            if not self.settling or self.settling[0].after > committed:
                return
            entry = self.settling.popleft()
            holder, key = self.holder(entry.hash_key, entry.range_key)
            if holder is None or holder.get(key) is not entry.encoded:
                continue  # changed or gone since
            item = decode(entry.encoded, self.hash_key_attr, self.range_key_attr, self.dictionary)
            if rows.item(self.name, self.row_key(entry.hash_key, entry.range_key)) == item_json(item):
                holder[key] = STORED
            elif entry.tries < _SETTLE_TRIES:  # after a write queued later (its own request's, perhaps)
                entry.after, entry.tries = rows.submitted() + 1, entry.tries + 1
                self.settling.append(entry)

    def put_stored(self, hash_key: Native, range_key: Native | None, rows: ItemRows) -> None:
        """An item the store holds, held as STORED (a durable local cloud starting again)."""
        self.rows = rows
        if range_key is None:
            self.held[hash_key] = STORED
            return
        part = self.held.get(hash_key)
        if part is None:
            part = self.held[hash_key] = SortedPart(self, hash_key)
        part.held[range_key] = STORED


class _Settling:
    """A cold item waiting to be checked against the store once writes up to `after` are committed."""

    __slots__ = ("after", "hash_key", "range_key", "encoded", "tries")

    def __init__(self, after: int, hash_key: Native, range_key: Native | None, encoded: bytes):
        self.after = after
        self.hash_key = hash_key
        self.range_key = range_key
        self.encoded = encoded
        self.tries = 0


class SortedPart(_Held):
    """The items of one partition of a table with a sort key: range key -> Item."""

    __slots__ = ("table", "hash_key", "held")  # one per partition of a sort-keyed table: each car's history

    def __init__(self, table: TableItems, hash_key: Native):
        self.table = table
        self.hash_key = hash_key
        self.held: dict[Native, Any] = {}

    def __getitem__(self, range_key: DynamoType) -> Item:
        key = native(range_key)
        return self.table.current(self.hash_key, key, self.held[key])

    def __setitem__(self, range_key: DynamoType, item: Item) -> None:
        key = native(range_key)
        if self.table.held.get(self.hash_key) is not self:
            self.table.held[self.hash_key] = self
        self.held[key] = item
        self.table.used(self.hash_key, key)

    def __contains__(self, range_key: object) -> bool:
        return isinstance(range_key, DynamoType) and native(range_key) in self.held

    def get(self, range_key: DynamoType, default: Any = None) -> Any:
        key = native(range_key)
        held = self.held.get(key)
        return default if held is None else self.table.current(self.hash_key, key, held)

    def pop(self, range_key: DynamoType, *default: Any) -> Any:
        key, held = self._pop(range_key, default)
        if held is _MISSING:
            return default[0]
        self.table.hot.pop((self.hash_key, key), None)
        if not self.held and self.table.held.get(self.hash_key) is self:
            del self.table.held[self.hash_key]
        return self.table.readable(held, self.hash_key, key)

    def values(self) -> Iterator[Item]:
        return (self.table.readable(held, self.hash_key, key) for key, held in list(self.held.items()))

    def items(self) -> Iterator[tuple[DynamoType, Item]]:
        return ((key_type(key), self.table.readable(held, self.hash_key, key)) for key, held in list(self.held.items()))


def item_at(table: Any, hash_key: Native, range_key: Native | None) -> Item | None:
    """The item under these (plain) keys, to read, whatever holds the table's items."""
    if isinstance(table.items, TableItems):
        return table.items.peek(hash_key, range_key)
    held = table.items.get(key_type(hash_key))
    if held is not None and range_key is not None:
        held = held.get(key_type(range_key))
    return held  # type: ignore[no-any-return]


def _compact(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def run(table: Any, *args: Any, **kwargs: Any) -> None:
        init(table, *args, **kwargs)
        table.items = TableItems(table.name, table.hash_key_attr, table.range_key_attr)

    return run


def _counted(length: Callable[[Any], int]) -> Callable[[Any], int]:
    @functools.wraps(length)
    def run(table: Any) -> int:
        return table.items.count() if isinstance(table.items, TableItems) else length(table)

    return run


SEAM = Seam(__name__, "a table's items not used lately held as bytes, not as moto's objects")
SEAM.wrap(Table, "__init__", _compact)
SEAM.wrap(Table, "__len__", _counted)
