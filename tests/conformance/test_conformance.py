"""The local engine answers as AWS does, on AWS's own recordings.

Each runnable case of aws_recorded_cases.json runs on one in-process local cloud (virtual clock) and
is compared with AWS's recorded answer (compare.py). A case that does not pass yet is listed in
expected_failures.py with the reason of its group: it is xfail(strict=True), so a fix that makes it
pass fails the suite until the list is updated, and the figure in README.md follows the suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance import expected_failures, runner
from workflows.local.cloud import LocalCloud

CASES = [c for c in runner.load_cases() if runner.runnable(c)]


@pytest.fixture(scope="module")
def conformance_cloud() -> Iterator[LocalCloud]:
    """One local cloud for every case: each case's resources carry their own names."""
    with LocalCloud(virtual_time=True) as cloud, runner.case_functions(cloud):
        yield cloud


def _params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        reason = expected_failures.reason(case["id"])
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=runner.case_slug(case["id"]), marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_case_matches_aws(case: dict, conformance_cloud: LocalCloud) -> None:
    outcome = runner.CaseRun(case, conformance_cloud).run()
    assert outcome.passed, f"{case['id']} differs from AWS:\n  " + "\n  ".join(outcome.divergences)


def test_expected_failures_name_real_cases() -> None:
    known = {c["id"] for c in CASES}
    stale = sorted(set(expected_failures.EXPECTED) - known)
    assert not stale, f"expected_failures.py lists cases that are not runnable cases: {stale}"
