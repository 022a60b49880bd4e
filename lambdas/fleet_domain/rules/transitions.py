"""The car status transition table: a car's legal status changes, as data (DESIGN.md, Domain).
Every conditional write of a car's status is built from it (data/cars.py) or checked against it
(the ASL's, by tests/unit/test_status_writes.py, which parses the Python writes too)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fleet_domain.models.car import CarStatus

S = CarStatus

#: The one status a car is created in.
INITIAL = S.REGISTERING

#: Statuses a car never leaves.
TERMINAL: frozenset[CarStatus] = frozenset({S.RETIRED, S.OUT_OF_SERVICE})

_FLOW: dict[CarStatus, frozenset[CarStatus]] = {
    S.REGISTERING: frozenset({S.AVAILABLE, S.REGISTRATION_FAILED}),
    # A failed registration may be tried again (e.g. a DLQ redrive); the version carries on.
    S.REGISTRATION_FAILED: frozenset({S.REGISTERING}),
    S.AVAILABLE: frozenset({S.RESERVED, S.IN_MAINTENANCE}),
    S.RESERVED: frozenset({S.ON_TRIP, S.AVAILABLE}),  # to AVAILABLE: the reservation is released
    S.ON_TRIP: frozenset({S.AVAILABLE}),
    S.IN_MAINTENANCE: frozenset({S.AVAILABLE, S.RETIRED}),
}

#: status -> the statuses it may move to. Any non-terminal status may also go OUT_OF_SERVICE
#: (an unrecoverable operational failure).
TRANSITIONS: Mapping[CarStatus, frozenset[CarStatus]] = MappingProxyType({
    status: (_FLOW.get(status, frozenset()) | {S.OUT_OF_SERVICE}) if status not in TERMINAL else frozenset()
    for status in CarStatus
})


def is_legal(prev: CarStatus | str | None, new: CarStatus | str) -> bool:
    """Whether a car may move from `prev` to `new`. `prev=None` means the car is new."""
    new = CarStatus(new)
    if prev is None:
        return new is INITIAL
    return new in TRANSITIONS[CarStatus(prev)]


def predecessors(new: CarStatus | str) -> frozenset[CarStatus]:
    """The statuses from which a car may move to `new` (for conditional writes)."""
    new = CarStatus(new)
    return frozenset(prev for prev, nexts in TRANSITIONS.items() if new in nexts)


#: Who holds a car in a status: the attribute naming its ride or its job. A car leaving one of
#: these statuses is released (the attribute goes, `last_<attribute>` keeps it); a car entering
#: one is taken (the attribute is set).
HOLDER: Mapping[CarStatus, str] = MappingProxyType({
    S.RESERVED: "ride_id",
    S.ON_TRIP: "ride_id",
    S.IN_MAINTENANCE: "job_id",
})
