"""What every command reports the same way: a usage error is one line on stderr and exit 2."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """A problem with what the user asked for: reported as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        raise UsageError(message)
