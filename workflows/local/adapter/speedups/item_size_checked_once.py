"""A DynamoDB item is checked against the 400 KB item limit once, not once per attribute: moto's
Item adds its attributes one by one to a LimitedSizeDict whose every insert sums the sizes of all
the attributes already there, so building an item of n attributes cost n^2/2 size computations
(about 115 us for a 14-attribute car; every PutItem, every GetItem's projection, every restored
item). The item is refused (ItemSizeTooLarge) exactly when moto refuses it: sizes only grow as
attributes are added, so the last of moto's checks is the one that can fail, and it is the one
made here. Later single-attribute writes (UpdateItem's SET) still go through moto's check."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

from workflows.local.adapter.seam import Seam

ITEM_SIZE_LIMIT = 405_000  # moto's own bound, between AWS's measured 409 and 410 KB


def _item_init(item: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    item.hash_key = hash_key
    item.range_key = range_key
    values = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    held = LimitedSizeDict()
    dict.update(held, values)
    item.attrs = held


SEAM = Seam(__name__, "an item's size checked once when it is built")
SEAM.replace(Item, "__init__", _item_init)
