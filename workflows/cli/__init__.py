"""The `fleet` command line: one module per command group, assembled by entry.py.

`main` is importable from here (`from workflows.cli import main`, the console script's target and
what tools that drive `fleet` in-process call); it defers to entry.py when called, so importing a
command module never imports the entry module back.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from workflows.cli.entry import main as run

    return run(argv)
