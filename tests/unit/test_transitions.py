from __future__ import annotations

import itertools

import pytest

from fleet_domain.models.car import CarStatus as S
from fleet_domain.rules.transitions import INITIAL, TERMINAL, TRANSITIONS, is_legal, predecessors

LEGAL = {
    (S.REGISTERING, S.AVAILABLE), (S.REGISTERING, S.REGISTRATION_FAILED),
    (S.AVAILABLE, S.RESERVED), (S.AVAILABLE, S.IN_MAINTENANCE),
    (S.RESERVED, S.ON_TRIP), (S.RESERVED, S.AVAILABLE),
    (S.ON_TRIP, S.AVAILABLE),
    (S.IN_MAINTENANCE, S.AVAILABLE), (S.IN_MAINTENANCE, S.RETIRED),
    # a failed registration may be tried again (a DLQ redrive)
    (S.REGISTRATION_FAILED, S.REGISTERING), (S.REGISTRATION_FAILED, S.OUT_OF_SERVICE),
    # any non-terminal status may go out of service
    (S.REGISTERING, S.OUT_OF_SERVICE), (S.AVAILABLE, S.OUT_OF_SERVICE), (S.RESERVED, S.OUT_OF_SERVICE),
    (S.ON_TRIP, S.OUT_OF_SERVICE), (S.IN_MAINTENANCE, S.OUT_OF_SERVICE),
}


@pytest.mark.parametrize("prev, new", list(itertools.product(S, S)))
def test_exactly_the_designed_transitions_are_legal(prev, new):
    assert is_legal(prev, new) is ((prev, new) in LEGAL)


def test_terminal_statuses_have_no_way_out():
    assert {S.RETIRED, S.OUT_OF_SERVICE} == TERMINAL
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()


def test_a_new_car_starts_registering():
    assert INITIAL is S.REGISTERING
    assert is_legal(None, "REGISTERING")
    assert not is_legal(None, S.AVAILABLE)


def test_plain_strings_are_accepted_and_unknown_statuses_are_errors():
    assert is_legal("RESERVED", "ON_TRIP")
    assert not is_legal("ON_TRIP", "RESERVED")
    with pytest.raises(ValueError):
        is_legal("AVAILABLE", "FLYING")


def test_predecessors_are_the_inverse_of_the_transitions():
    assert predecessors(S.AVAILABLE) == {S.REGISTERING, S.RESERVED, S.ON_TRIP, S.IN_MAINTENANCE}
    assert predecessors("ON_TRIP") == {S.RESERVED}
    assert predecessors(S.REGISTERING) == {S.REGISTRATION_FAILED}


def test_the_rules_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        TRANSITIONS[S.RETIRED] = frozenset({S.AVAILABLE})  # type: ignore[index]
