"""README.md's conformance figure is the suite's: written by `python -m tests.conformance.measure
--write-readme` from expected_failures.py, which the suite holds to the truth (strict xfails)."""

from __future__ import annotations

from tests.conformance import measure


def test_the_readme_figure_is_the_suites():
    text = measure.README.read_text()
    start, end = text.index(measure.FIGURE_START), text.index(measure.FIGURE_END)
    shown = text[start + len(measure.FIGURE_START):end].strip("\n").splitlines()
    assert shown == measure.figure_from_expectations(), (
        "README.md's conformance figure is stale: run `.venv/bin/python -m tests.conformance.measure --write-readme`")
