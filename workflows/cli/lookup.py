"""Ids as users type them: the whole id, or enough of its start to name one thing. What a prefix
matches is listed when it matches several, so the user can type more."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workflows.cli.errors import NotFound

MAX_SHOWN = 5


def one_of(given: str, candidates: Iterable[str], what: str, hint: str = "") -> str:
    """`given` itself if it is a candidate, else the one candidate starting with it."""
    candidates = list(dict.fromkeys(candidates))
    if given in candidates:
        return given
    return choose(given, [c for c in candidates if given and c.startswith(given)], what, hint)


def choose(given: str, matches: list[str], what: str, hint: str = "") -> str:
    """The one match for what the user typed; NotFound naming the matches when there are several."""
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"no {what} {given}" + (f" (see `{hint}`)" if hint else ""))
    shown = ", ".join(matches[:MAX_SHOWN]) + (f" and {len(matches) - MAX_SHOWN} more" if len(matches) > MAX_SHOWN else "")
    raise NotFound(f"{given!r} starts {len(matches)} {what} ids ({shown}): give more of it")


def key_in_table(dynamodb: Any, table: str, key: str, given: str, what: str, hint: str = "") -> str:
    """A table's partition key value from the whole of it or the start of it (a consistent read of
    the item first; a scan for the prefix only when there is no such item)."""
    if given and dynamodb.get_item(TableName=table, Key={key: {"S": given}}, ProjectionExpression="#k",
                                   ExpressionAttributeNames={"#k": key}, ConsistentRead=True).get("Item"):
        return given
    found: list[str] = []
    if given:
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="#k", FilterExpression="begins_with(#k, :p)",
            ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues={":p": {"S": given}})
        found = [item[key]["S"] for page in pages for item in page["Items"]]
    return one_of(given, found, what, hint)
