"""moto's BackendDict answers `backends[account]` by taking the process-wide backend lock, listing
its keys and scanning the list of backends in use with a Python `__eq__` on each, on every
lookup; every request makes a few (about 2% of the engine's CPU under load, and a lock all
threads meet). An account's backend, once made and registered, is answered from the dictionary
directly; moto's path still makes the first one, and again after a reset (which clears both the
backends and their registration)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from moto.core.base_backend import BackendDict

from workflows.local.adapter.seam import Seam

_resets = itertools.count()
_generation = next(_resets)  # bumped by every reset: what was registered before is not any more


def _direct(getitem: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    @functools.wraps(getitem)
    def run(backends: Any, account_id: str) -> Any:
        if backends.__dict__.get("_fleet_generation") == _generation and dict.__contains__(backends, account_id):
            return dict.__getitem__(backends, account_id)
        generation = _generation
        answer = getitem(backends, account_id)  # made and registered, as moto does
        backends._fleet_generation = generation
        return answer

    return run


def _counted(reset: Any) -> Any:
    """moto's reset (a classmethod), counted."""
    function = reset.__func__

    @functools.wraps(function)
    def run(cls: Any) -> None:
        global _generation
        _generation = next(_resets)
        function(cls)

    return classmethod(run)


SEAM = Seam(__name__, "an account's backend, once made, looked up without the lock and the scan")
SEAM.wrap(BackendDict, "__getitem__", _direct)
SEAM.wrap(BackendDict, "reset", _counted)
