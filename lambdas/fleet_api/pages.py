"""The API's pagination tokens: `next_token` is opaque to clients (URL-safe base64 of a small JSON
object) and names the listing and filter it was given for, so a token from another listing or
another filter is refused (422), never misread."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fleet_api.errors import Invalid


def encode(listing: str, filter_: str | None, position: dict[str, Any]) -> str:
    raw = json.dumps({"l": listing, "f": filter_, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, listing: str, filter_: str | None) -> dict[str, Any]:
    """The position a token of this listing and filter holds; Invalid for any other token."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise not_ours() from None
    if not isinstance(decoded, dict) or decoded.get("l") != listing or decoded.get("f") != filter_ \
            or not isinstance(decoded.get("p"), dict):
        raise not_ours()
    position: dict[str, Any] = decoded["p"]
    return position


def not_ours() -> Invalid:
    return Invalid("next_token is not one this listing gave (with these filters): start again without it",
                   [{"field": "next_token"}])
