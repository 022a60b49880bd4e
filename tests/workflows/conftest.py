"""Workflow tests: after every test that ran a local cloud, the invariants over the whole tables
(tests/workflows/invariants.py) are checked, as part of the test itself.

A test opts out with `@pytest.mark.no_invariants` (for a test that corrupts the tables on purpose).
Fleets come from the `fleet` or `cloud` fixtures, or from `faulty_fleet(...)`, which is wrapped
here to remember the fleets it makes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Fleet
from tests.workflows import invariants


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_invariants: do not check the table invariants after this test")


@pytest.fixture
def faulty_fleet(faulty_fleet: Any, request: pytest.FixtureRequest) -> Any:
    made: list[Fleet] = []
    request.node.stash[_FLEETS] = made

    def make(*args: Any, **kwargs: Any) -> Fleet:
        fleet = faulty_fleet(*args, **kwargs)
        made.append(fleet)
        return fleet

    return make


_FLEETS = pytest.StashKey[list]()


def fleets_of(item: pytest.Item) -> list[Fleet]:
    funcargs = getattr(item, "funcargs", {})
    fleets = list(item.stash.get(_FLEETS, []))
    if isinstance(funcargs.get("fleet"), Fleet):
        fleets.append(funcargs["fleet"])
    elif funcargs.get("cloud") is not None and hasattr(funcargs["cloud"], "client"):
        fleets.append(Fleet(funcargs["cloud"]))
    return fleets


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield  # the test itself; if it failed, that is what is reported
    if item.get_closest_marker("no_invariants") is None:
        for fleet in fleets_of(item):
            invariants.check(fleet)
    return result
